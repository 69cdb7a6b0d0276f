package autobahn

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// cases.json is the structured form of CASES.md, the catalogue's prose
// companion next to it; TestCatalogueDocument keeps the two in step.
//
//go:embed cases.json
var casesJSON []byte

// TotalCases is the number of cases in the catalogue.
const TotalCases = 517

// The versions of the Autobahn|Testsuite the catalogue was taken from and
// of the WebSocket library whose behaviour decides its verdicts.
const (
	SuiteVersion        = "25.10.1"
	SuiteLibraryVersion = "0.10.9"
)

// Case is one test case of the catalogue, as cases.json describes it. Cases
// are shared: treat every field as read-only.
type Case struct {
	ID       string `json:"id"`                // "6.4.3"
	Index    int    `json:"index_in_full_run"` // 1-based position when all cases run
	Section  string `json:"section"`           // "6.4"
	Category string `json:"category"`          // "UTF-8 handling"
	Title    string `json:"title"`
	Timer    *Timer `json:"timer"`
	Steps    []Step `json:"steps"`
	// Outcomes maps a verdict label (OK, NON-STRICT) to the exact event
	// list that earns it. Cases judged by an Evaluator have none.
	Outcomes          map[string][]ExpectedEvent `json:"outcomes"`
	Close             CloseExpectation           `json:"close"`
	SuppressAutoClose bool                       `json:"suppress_auto_close"`
	ForcedVerdict     string                     `json:"forced_verdict"` // "INFORMATIONAL" or empty
	Evaluator         *Evaluator                 `json:"evaluator"`
	PMCE              *PMCESpec                  `json:"pmce"`
	FuzzerSelfCheck   map[string]int             `json:"fuzzer_self_check"`
	UTF8Valid         *bool                      `json:"utf8_valid"`
	Group             string                     `json:"group"`
	Note              string                     `json:"note"`
	Ambiguity         string                     `json:"ambiguity"`
	CloseCodeSent     *int                       `json:"close_code_sent"`
	ReportDuration    bool                       `json:"report_duration"`
	ReportRatio       bool                       `json:"report_compression_ratio"`

	key   []int      // parsed ID, for sorting
	extra *extraCase // a case of a section after 13 (SECTIONS.md), else nil
}

// Timer is a case's kill or close timer. See CASES.md, Section A.6.
type Timer struct {
	Kind    string  `json:"kind"` // "kill" or "close"
	Seconds float64 `json:"seconds"`
}

// Step kinds, the values of [Step.Do].
const (
	StepFrame              = "frame"
	StepMessage            = "message"
	StepClose              = "close"
	StepPause              = "pause"
	StepFrameHeaderOnly    = "frame_header_only"
	StepFramePayloadChunk  = "frame_payload_chunk"
	StepEndStreamed        = "end_streamed_message"
	StepKillAfter          = "kill_after"
	StepCloseAfter         = "close_after"
	StepSequentialEcho     = "sequential_echo_loop"
	StepCompressedEchoLoop = "sequential_compressed_echo_loop"
)

// StepKinds lists every step kind the engine implements.
var StepKinds = []string{
	StepFrame, StepMessage, StepClose, StepPause, StepFrameHeaderOnly,
	StepFramePayloadChunk, StepEndStreamed, StepKillAfter, StepCloseAfter,
	StepSequentialEcho, StepCompressedEchoLoop,
}

// Step is one thing the fuzzer does. Which fields matter depends on Do; see
// the "conventions" of cases.json.
type Step struct {
	Do string `json:"do"`

	// frame, frame_header_only
	Opcode  int      `json:"opcode"`
	Fin     bool     `json:"fin"`
	Rsv     int      `json:"rsv"`
	Payload *Payload `json:"payload"`
	Chop    int      `json:"chop"` // 0: not chopped
	Sync    bool     `json:"sync"`
	Length  int64    `json:"length"` // frame_header_only

	// message
	Binary           bool `json:"binary"`
	FragmentSize     int  `json:"fragment_size"`      // 0: one frame
	AutoFragmentSize int  `json:"auto_fragment_size"` // 0: none

	// close
	Code   *int     `json:"code"`
	Reason *Payload `json:"reason"`

	// pause, kill_after, close_after
	Seconds             float64 `json:"seconds"`
	Tag                 string  `json:"tag"`
	RecordTimeoutIfOpen bool    `json:"record_timeout_if_open"`

	// sequential_echo_loop, sequential_compressed_echo_loop
	Count   int   `json:"count"`
	Message *Step `json:"message"`
}

// Payload is a byte string of the catalogue: exact bytes (Hex), or a
// pattern (RepeatHex) repeated and cut to Length bytes.
type Payload struct {
	Hex         string `json:"hex,omitempty"`
	RepeatHex   string `json:"repeat_hex,omitempty"`
	Length      int    `json:"length,omitempty"`
	ASCII       string `json:"ascii,omitempty"`
	RepeatASCII string `json:"repeat_ascii,omitempty"`
}

// Bytes returns the payload's bytes in a new slice. The catalogue is checked
// when it loads, so Bytes never fails.
func (p *Payload) Bytes() []byte {
	if p == nil {
		return nil
	}
	b, err := p.decode()
	if err != nil {
		panic("autobahn: " + err.Error())
	}
	return b
}

// Len returns the payload length in bytes without building it.
func (p *Payload) Len() int {
	if p == nil {
		return 0
	}
	if p.RepeatHex != "" {
		return p.Length
	}
	return len(p.Hex) / 2
}

func (p *Payload) decode() ([]byte, error) {
	if p.RepeatHex == "" {
		b, err := hex.DecodeString(p.Hex)
		if err != nil {
			return nil, fmt.Errorf("payload hex: %w", err)
		}
		if p.Length != 0 && p.Length != len(b) {
			return nil, fmt.Errorf("payload hex has %d bytes, length says %d", len(b), p.Length)
		}
		return b, nil
	}
	pat, err := hex.DecodeString(p.RepeatHex)
	if err != nil || len(pat) == 0 {
		return nil, fmt.Errorf("payload repeat_hex %q: bad pattern", p.RepeatHex)
	}
	b := make([]byte, p.Length)
	// Copy the pattern, then keep doubling what is there.
	for n := copy(b, pat); n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
	return b, nil
}

// ExpectedEvent is one element of an outcome list: a message, a pong or a
// timeout recorded by a pause step.
type ExpectedEvent struct {
	Type    string   `json:"type"` // "message", "pong" or "timeout"
	Binary  bool     `json:"binary,omitempty"`
	Payload *Payload `json:"payload,omitempty"`
	Tag     string   `json:"tag,omitempty"`
}

// CloseExpectation says how a case must end. See CASES.md, Section A.8.
type CloseExpectation struct {
	FuzzerClosesFirst      bool  `json:"fuzzer_closes_first"`
	AcceptedCodes          []int `json:"accepted_codes"`
	RequireClean           bool  `json:"require_clean"`
	WrongEndpointFailsCase bool  `json:"wrong_endpoint_fails_case"` // "!"
	WrongCodeFailsCase     bool  `json:"wrong_code_fails_case"`     // "+wc"
}

// Evaluator types, the values of [Evaluator.Type].
const (
	EvalSingleEchoLength  = "single_echo_length"
	EvalSequentialEcho    = "sequential_echo"
	EvalCompressedSeqEcho = "compressed_sequential_echo"
)

// Words of cases.json the engine branches on.
const (
	outcomeOK            = "OK"
	outcomeNS            = "NON-STRICT"
	forcedInformational  = "INFORMATIONAL"
	expectedEventMessage = "message"
	expectedEventPong    = "pong"
	expectedEventTimeout = "timeout"
	timerKill            = "kill"
	timerClose           = "close"
)

// Evaluator is the custom verdict rule of sections 9, 12 and 13.
type Evaluator struct {
	Type             string  `json:"type"`
	Binary           bool    `json:"binary"`
	Length           int     `json:"length"` // 9.x
	Count            int     `json:"count"`
	TimeLimit        float64 `json:"time_limit_s"`
	Dataset          string  `json:"dataset"`        // 12.x, 13.x
	MessageLength    int     `json:"message_length"` // 12.x, 13.x
	LengthUnit       string  `json:"length_unit"`
	AutoFragmentSize int     `json:"auto_fragment_size"`
}

// PMCESpec is the permessage-deflate negotiation of a 12.x or 13.x case.
// See CASES.md, Sections B.12 and B.13.
type PMCESpec struct {
	ClientOffers      []PMCEOffer      `json:"client_offers"`
	ServerAcceptOrder []PMCEAcceptRule `json:"server_accept_order"`
	Label             string           `json:"label"`
}

// PMCEOffer is one offer the fuzzer sends when it is the client.
type PMCEOffer struct {
	Header                  string `json:"header"`
	ClientNoContextTakeover bool   `json:"client_no_context_takeover"`
	ClientMaxWindowBits     bool   `json:"client_max_window_bits"`
	ServerNoContextTakeover bool   `json:"server_no_context_takeover"`
	ServerMaxWindowBits     *int   `json:"server_max_window_bits"`
}

// PMCEAcceptRule is one try of the fuzzer's accept rule when it is the
// server.
type PMCEAcceptRule struct {
	RequiresInOffer                []string `json:"requires_in_offer"`
	RespondClientNoContextTakeover bool     `json:"respond_client_no_context_takeover"`
	RespondClientMaxWindowBits     *int     `json:"respond_client_max_window_bits"`
}

// DatasetInfo describes a section 12/13 dataset as the catalogue lists it.
// The harness generates its own bytes of the same size; see [Dataset].
type DatasetInfo struct {
	Key         string `json:"key"`
	Binary      bool   `json:"binary"`
	Description string `json:"description"`
	Size        int    `json:"size"`
}

type catalogueFile struct {
	Format           string                 `json:"format"`
	Total            int                    `json:"total_cases"`
	CountsPerSection map[string]int         `json:"counts_per_section"`
	Datasets         map[string]DatasetInfo `json:"datasets"`
	Cases            []*Case                `json:"cases"`
}

type catalogue struct {
	file   catalogueFile
	byID   map[string]*Case
	sorted []*Case // the suite's cases
	all    []*Case // and those of the sections after 13
}

var (
	catalogueOnce sync.Once
	catalogueVal  *catalogue
	catalogueErr  error
)

func loadCatalogue() (*catalogue, error) {
	catalogueOnce.Do(func() {
		catalogueVal, catalogueErr = parseCatalogue(casesJSON)
		if catalogueErr == nil {
			catalogueErr = catalogueVal.addExtra(extraCases())
		}
	})
	return catalogueVal, catalogueErr
}

// addExtra adds the cases of the sections after 13 to the catalogue.
func (cat *catalogue) addExtra(extra []*Case) error {
	cat.all = slices.Clone(cat.sorted)
	next := len(cat.sorted) + 1
	for _, c := range extra {
		key, err := parseCaseID(c.ID)
		if err != nil {
			return err
		}
		if key[0] <= 13 {
			return fmt.Errorf("extra case %s: sections up to 13 are the suite's", c.ID)
		}
		if cat.byID[c.ID] != nil {
			return fmt.Errorf("case %s listed twice", c.ID)
		}
		c.key = key
		if from := c.extra.pmceFrom; from != "" {
			if cat.byID[from] == nil {
				return fmt.Errorf("extra case %s: no case %s", c.ID, from)
			}
			c.PMCE = cat.byID[from].PMCE
		}
		cat.byID[c.ID] = c
		cat.all = append(cat.all, c)
	}
	sortCases(cat.all)
	for _, c := range cat.all[len(cat.sorted):] {
		c.Index = next
		next++
	}
	return nil
}

func mustCatalogue() *catalogue {
	c, err := loadCatalogue()
	if err != nil {
		panic("autobahn: embedded cases.json: " + err.Error())
	}
	return c
}

// Cases returns the cases of the Autobahn catalogue (sections 1 to 13) in
// numeric ID order, which is also their order in a full run. The slice is
// shared: do not modify it.
func Cases() []*Case { return mustCatalogue().sorted }

// AllCases returns the cases of the Autobahn catalogue followed by those of
// the sections after 13 that this harness adds (see SECTIONS.md and
// [Case.Extra]), in numeric ID order. The slice is shared: do not modify
// it.
func AllCases() []*Case { return mustCatalogue().all }

// LookupCase returns the case with the given ID, of any section, or nil.
func LookupCase(id string) *Case { return mustCatalogue().byID[id] }

// Extra reports whether c belongs to a section after 13: a case of this
// harness, not of the Autobahn catalogue. Such cases are left out of the
// selection unless a pattern names their section (see [SelectCases]).
func (c *Case) Extra() bool { return c.extra != nil }

// SectionCounts returns the number of cases per section ("1.1", "2", ...)
// that the catalogue declares.
func SectionCounts() map[string]int {
	m := make(map[string]int)
	for k, v := range mustCatalogue().file.CountsPerSection {
		m[k] = v
	}
	return m
}

// Datasets returns the section 12/13 datasets the catalogue names, by key.
func Datasets() map[string]DatasetInfo {
	m := make(map[string]DatasetInfo)
	for k, v := range mustCatalogue().file.Datasets {
		m[k] = v
	}
	return m
}

// parseCatalogue decodes and checks a catalogue: every case has a unique
// parseable ID, a known kind for every step, decodable payloads, and either
// outcome lists or an evaluator; the section counts add up.
func parseCatalogue(data []byte) (*catalogue, error) {
	cat := &catalogue{byID: make(map[string]*Case)}
	if err := json.Unmarshal(data, &cat.file); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	f := &cat.file
	if len(f.Cases) != f.Total {
		return nil, fmt.Errorf("%d cases, total_cases says %d", len(f.Cases), f.Total)
	}
	perSection := make(map[string]int)
	for _, c := range f.Cases {
		key, err := parseCaseID(c.ID)
		if err != nil {
			return nil, err
		}
		c.key = key
		if cat.byID[c.ID] != nil {
			return nil, fmt.Errorf("case %s listed twice", c.ID)
		}
		cat.byID[c.ID] = c
		perSection[c.Section]++
		if err := checkCase(c, f.Datasets); err != nil {
			return nil, fmt.Errorf("case %s: %w", c.ID, err)
		}
	}
	for s, n := range f.CountsPerSection {
		if perSection[s] != n {
			return nil, fmt.Errorf("section %s has %d cases, counts_per_section says %d", s, perSection[s], n)
		}
	}
	for s, n := range perSection {
		if f.CountsPerSection[s] != n {
			return nil, fmt.Errorf("section %s (%d cases) missing from counts_per_section", s, n)
		}
	}
	cat.sorted = slices.Clone(f.Cases)
	sortCases(cat.sorted)
	for i, c := range cat.sorted {
		if c.Index != i+1 {
			return nil, fmt.Errorf("case %s has index_in_full_run %d, sorts to %d", c.ID, c.Index, i+1)
		}
	}
	return cat, nil
}

func checkCase(c *Case, datasets map[string]DatasetInfo) error {
	if (c.Evaluator == nil) == (c.Outcomes == nil) {
		return fmt.Errorf("needs exactly one of outcomes and evaluator")
	}
	if c.Timer == nil || (c.Timer.Kind != timerKill && c.Timer.Kind != timerClose) {
		return fmt.Errorf("bad timer")
	}
	for label, evs := range c.Outcomes {
		if label != outcomeOK && label != outcomeNS {
			return fmt.Errorf("unknown outcome label %q", label)
		}
		for _, e := range evs {
			switch e.Type {
			case expectedEventMessage, expectedEventPong:
				if _, err := e.Payload.decode(); e.Payload == nil || err != nil {
					return fmt.Errorf("outcome %s: bad payload: %v", label, err)
				}
			case expectedEventTimeout:
			default:
				return fmt.Errorf("outcome %s: unknown event type %q", label, e.Type)
			}
		}
	}
	if c.ForcedVerdict != "" && c.ForcedVerdict != forcedInformational {
		return fmt.Errorf("unknown forced verdict %q", c.ForcedVerdict)
	}
	if len(c.Close.AcceptedCodes) == 0 {
		return fmt.Errorf("no accepted close codes")
	}
	if e := c.Evaluator; e != nil {
		switch e.Type {
		case EvalSingleEchoLength, EvalSequentialEcho:
		case EvalCompressedSeqEcho:
			if _, ok := datasets[e.Dataset]; !ok {
				return fmt.Errorf("unknown dataset %q", e.Dataset)
			}
			if c.PMCE == nil || len(c.PMCE.ClientOffers) == 0 || len(c.PMCE.ServerAcceptOrder) == 0 {
				return fmt.Errorf("compressed case without pmce offers and rules")
			}
		default:
			return fmt.Errorf("unknown evaluator %q", e.Type)
		}
	}
	for i := range c.Steps {
		if err := checkStep(&c.Steps[i]); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
	}
	return nil
}

func checkStep(s *Step) error {
	if stepHandlers[s.Do] == nil {
		return fmt.Errorf("step kind %q is not implemented", s.Do)
	}
	payload := func(p *Payload) error {
		if p == nil {
			return fmt.Errorf("%s without payload", s.Do)
		}
		_, err := p.decode()
		return err
	}
	switch s.Do {
	case StepFrame:
		if s.Opcode < 0 || s.Opcode > 15 || s.Rsv < 0 || s.Rsv > 7 || s.Chop < 0 {
			return fmt.Errorf("bad frame fields")
		}
		return payload(s.Payload)
	case StepMessage:
		if s.FragmentSize < 0 || s.AutoFragmentSize < 0 {
			return fmt.Errorf("bad fragment size")
		}
		return payload(s.Payload)
	case StepClose:
		if s.Code != nil && (*s.Code < 0 || *s.Code > 0xFFFF) {
			return fmt.Errorf("bad close code")
		}
		if s.Reason != nil {
			return payload(s.Reason)
		}
	case StepPause, StepKillAfter, StepCloseAfter:
		if s.Seconds <= 0 {
			return fmt.Errorf("%s without seconds", s.Do)
		}
	case StepFrameHeaderOnly:
		if s.Length < 0 || s.Opcode < 0 || s.Opcode > 15 {
			return fmt.Errorf("bad header")
		}
	case StepFramePayloadChunk:
		return payload(s.Payload)
	case StepEndStreamed:
	case StepSequentialEcho:
		if s.Count <= 0 || s.Message == nil || s.Message.Do != StepFrame {
			return fmt.Errorf("bad sequential echo loop")
		}
		return checkStep(s.Message)
	case StepCompressedEchoLoop:
		if s.Count <= 0 {
			return fmt.Errorf("bad compressed echo loop")
		}
	default:
		return fmt.Errorf("unknown step kind %q", s.Do)
	}
	return nil
}

// outcomeLabels returns c's outcome labels in the order they are tried:
// OK, then NON-STRICT.
func (c *Case) outcomeLabels() []string {
	var labels []string
	for _, l := range []string{outcomeOK, outcomeNS} {
		if _, ok := c.Outcomes[l]; ok {
			labels = append(labels, l)
		}
	}
	return labels
}

// Modes returns the modes in which c runs: [ModeFuzzingClient] (the
// testee is a server) and [ModeFuzzingServer] (the testee is a client) for
// every case of the Autobahn catalogue, one of them for some cases of the
// sections after 13.
func (c *Case) Modes() []string {
	if c.extra != nil && c.extra.modes != nil {
		return c.extra.modes
	}
	return bothModes
}

var bothModes = []string{ModeFuzzingClient, ModeFuzzingServer}

// Chapter returns the first component of the case ID, such as "6" for
// 6.4.3.
func (c *Case) Chapter() string {
	for i := 0; i < len(c.ID); i++ {
		if c.ID[i] == '.' {
			return c.ID[:i]
		}
	}
	return c.ID
}
