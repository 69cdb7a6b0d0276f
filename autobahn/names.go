package autobahn

import (
	"fmt"
	"strings"
)

// The reports group cases as the suite's reports do: a row per chapter
// (the first component of the ID) and one per sub-category (the first two
// components) that has a name. The names of the chapters and of the fixed
// sub-categories are the suite's labels, which users know from its
// reports; those of 6.5 to 6.23, 12.x and 13.x come from the catalogue.

var chapterNames = map[string]string{
	"1": "Framing", "2": "Pings/Pongs", "3": "Reserved Bits", "4": "Opcodes",
	"5": "Fragmentation", "6": "UTF-8 Handling", "7": "Close Handling",
	"9": "Limits/Performance", "10": "Misc",
	"12": "WebSocket Compression (different payloads)",
	"13": "WebSocket Compression (different parameters)",
}

var subcategoryNames = map[string]string{
	"1.1": "Text Messages", "1.2": "Binary Messages",
	"4.1": "Non-control Opcodes", "4.2": "Control Opcodes",
	"6.1":  "Valid UTF-8 with zero payload fragments",
	"6.2":  "Valid UTF-8 unfragmented, fragmented on code-points and within code-points",
	"6.3":  "Invalid UTF-8 differently fragmented",
	"6.4":  "Fail-fast on invalid UTF-8",
	"7.1":  "Basic close behavior (fuzzer initiated)",
	"7.3":  "Close frame structure: payload length (fuzzer initiated)",
	"7.5":  "Close frame structure: payload value (fuzzer initiated)",
	"7.7":  "Close frame structure: valid close codes (fuzzer initiated)",
	"7.9":  "Close frame structure: invalid close codes (fuzzer initiated)",
	"7.13": "Informational close information (fuzzer initiated)",
	"9.1":  "Text Message (increasing size)",
	"9.2":  "Binary Message (increasing size)",
	"9.3":  "Fragmented Text Message (fixed size, increasing fragment size)",
	"9.4":  "Fragmented Binary Message (fixed size, increasing fragment size)",
	"9.5":  "Text Message (fixed size, increasing chop size)",
	"9.6":  "Binary Text Message (fixed size, increasing chop size)",
	"9.7":  "Text Message Roundtrip Time (fixed number, increasing size)",
	"9.8":  "Binary Message Roundtrip Time (fixed number, increasing size)",
	"10.1": "Auto-Fragmentation",
}

// ChapterName returns the name of a chapter ("1", "6", "14", ...) as the
// reports show it, or "Misc".
func ChapterName(ch string) string {
	if n := chapterNames[ch]; n != "" {
		return n
	}
	if n := extraChapterNames[ch]; n != "" {
		return n
	}
	return "Misc"
}

// SubcategoryName returns the name of a sub-category ("1.1", "6.5",
// "13.3", ...) as the reports show it, or "" if it has none (the cases of
// 2, 3 and 5 are listed under their chapter alone).
func SubcategoryName(sub string) string {
	if n := subcategoryNames[sub]; n != "" {
		return n
	}
	if n := extraSubcategoryNames[sub]; n != "" {
		return n
	}
	var c *Case
	for _, x := range AllCases() {
		if x.Section == sub {
			c = x
			break
		}
	}
	if c == nil {
		return ""
	}
	switch {
	case c.Group != "":
		return c.Group
	case c.Evaluator != nil && c.Evaluator.Type == EvalCompressedSeqEcho:
		e := c.Evaluator
		d := Datasets()[e.Dataset]
		kind := "utf8"
		if e.Binary {
			kind = "binary"
		}
		name := fmt.Sprintf("%s (%s, %d bytes)", upperFirst(d.Description), kind, d.Size)
		if c.Chapter() == "13" && c.PMCE != nil {
			name += " - " + c.PMCE.Label
		}
		return name
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// subcategoryOf returns the sub-category of a case ID: its first two
// components.
func subcategoryOf(id string) string {
	parts := strings.SplitN(id, ".", 3)
	if len(parts) < 2 {
		return id
	}
	return parts[0] + "." + parts[1]
}
