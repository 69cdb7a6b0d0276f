package autobahn

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The section 12 and 13 payloads. The suite cuts its messages from five
// files of its repository; the harness does not ship those files but
// generates stand-ins of exactly the same sizes and kinds from a fixed seed,
// so runs are repeatable and the compressor sees data of the same nature:
// JSON, a greyscale bitmap, German-like prose, HTML with a few non-ASCII
// characters, and a PDF-like mix of text and incompressible streams.

// Dataset is a generated section 12/13 dataset.
type Dataset struct {
	Key    string
	Binary bool   // sent as binary messages; lengths count bytes
	Data   []byte // shared: do not modify

	// runeStart holds the byte offset of every character of a text
	// dataset, and len(Data) last.
	runeStart []int32
}

// Len returns the dataset's length in the unit messages are cut in:
// characters for a text dataset, bytes for a binary one.
func (d *Dataset) Len() int {
	if d.Binary {
		return len(d.Data)
	}
	return len(d.runeStart) - 1
}

// Message returns message k (k = 0, 1, ...) of length l units: the slice of
// the dataset starting at unit (k*l) mod Len, wrapping around to the start.
// See CASES.md, Section B.12, step 4.
func (d *Dataset) Message(k, l int) []byte {
	n := d.Len()
	off := func(i int) int {
		if d.Binary {
			return i
		}
		return int(d.runeStart[i])
	}
	out := make([]byte, 0, l+l/4)
	pos := (k * l) % n
	for rest := l; rest > 0; pos = 0 {
		m := min(rest, n-pos)
		out = append(out, d.Data[off(pos):off(pos+m)]...)
		rest -= m
	}
	return out
}

var datasetCache sync.Map // key -> *datasetEntry

type datasetEntry struct {
	once sync.Once
	d    *Dataset
	err  error
}

// LoadDataset returns the generated dataset with the given key (see
// [Datasets]), generating it on first use. Later calls return the same
// *Dataset.
func LoadDataset(key string) (*Dataset, error) {
	info, ok := Datasets()[key]
	if !ok {
		return nil, fmt.Errorf("autobahn: unknown dataset %q", key)
	}
	v, _ := datasetCache.LoadOrStore(key, new(datasetEntry))
	e := v.(*datasetEntry)
	e.once.Do(func() {
		gen, ok := generators[key]
		if !ok {
			e.err = fmt.Errorf("autobahn: no generator for dataset %q", key)
			return
		}
		data := gen(info.Size)
		if len(data) != info.Size {
			e.err = fmt.Errorf("autobahn: dataset %s generated %d bytes, want %d", key, len(data), info.Size)
			return
		}
		d := &Dataset{Key: key, Binary: info.Binary, Data: data}
		if !d.Binary {
			if !utf8.Valid(data) {
				e.err = fmt.Errorf("autobahn: text dataset %s is not valid UTF-8", key)
				return
			}
			d.runeStart = make([]int32, 0, len(data)+1)
			for i := range string(data) {
				d.runeStart = append(d.runeStart, int32(i))
			}
			d.runeStart = append(d.runeStart, int32(len(data)))
		}
		e.d = d
	})
	return e.d, e.err
}

var generators = map[string]func(size int) []byte{
	"json_data1":      genJSON,
	"lena512":         genBitmap,
	"gutenberg_faust": genGermanText,
	"html_data1":      genHTML,
	"ooms":            genPDF,
}

// rng is splitmix64: tiny, fast and fixed forever, so datasets do not change
// with the Go version.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) pick(words []string) string { return words[r.intn(len(words))] }

var syllables = []string{
	"ka", "lo", "mi", "ter", "son", "dra", "vel", "nor", "pi", "que", "ran", "tos",
	"len", "bri", "gan", "do", "su", "wel", "fa", "rin", "ost", "cha", "mer", "il",
	"ber", "ta", "vi", "on", "es", "ul", "tra", "mon",
}

// word returns an invented lower-case word of 1 to 4 syllables.
func (r *rng) word() string {
	var b strings.Builder
	for range 1 + r.intn(3) + r.intn(2) {
		b.WriteString(r.pick(syllables))
	}
	return b.String()
}

func (r *rng) sentence(minWords, maxWords int) string {
	n := minWords + r.intn(maxWords-minWords+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = r.word()
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// genJSON builds an array of pretty-printed records, pure ASCII, padded with
// whitespace before the closing bracket to exactly size bytes.
func genJSON(size int) []byte {
	r := &rng{s: 0x4a534f4e}
	const end = "\n]\n"
	b := []byte("[\n")
	for id := 0; ; id++ {
		rec := jsonRecord(r, id)
		if id > 0 {
			rec = ",\n" + rec
		}
		if len(b)+len(rec)+len(end) > size {
			// Fill the rest with small records, then blanks.
			for {
				small := fmt.Sprintf(",\n  {\"id\": %d}", id)
				if len(b)+len(small)+len(end) > size {
					break
				}
				b = append(b, small...)
				id++
			}
			break
		}
		b = append(b, rec...)
	}
	for len(b)+len(end) < size {
		b = append(b, ' ')
	}
	return append(b, end...)
}

func jsonRecord(r *rng, id int) string {
	first, last, company := title(r.word()), title(r.word()), strings.ToUpper(r.word())
	var b strings.Builder
	field := func(name, value string, more bool) {
		b.WriteString("    \"" + name + "\": " + value)
		if more {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	q := strconv.Quote
	hexs := func(n int) string {
		const digits = "0123456789abcdef"
		s := make([]byte, n)
		for i := range s {
			s[i] = digits[r.intn(16)]
		}
		return string(s)
	}
	coord := func(limit int) string {
		v := r.intn(2*limit*1000000) - limit*1000000
		sign := ""
		if v < 0 {
			sign, v = "-", -v
		}
		return fmt.Sprintf("%s%d.%06d", sign, v/1000000, v%1000000)
	}
	b.WriteString("  {\n")
	field("id", strconv.Itoa(id), true)
	field("guid", q(hexs(8)+"-"+hexs(4)+"-"+hexs(4)+"-"+hexs(4)+"-"+hexs(12)), true)
	field("isActive", strconv.FormatBool(r.intn(2) == 0), true)
	field("balance", fmt.Sprintf("\"$%d,%03d.%02d\"", 1+r.intn(3), r.intn(1000), r.intn(100)), true)
	field("age", strconv.Itoa(20+r.intn(50)), true)
	field("eyeColor", q(r.pick([]string{"blue", "brown", "green", "grey"})), true)
	field("name", q(first+" "+last), true)
	field("company", q(company), true)
	field("email", q(strings.ToLower(first+"."+last+"@"+company)+".example"), true)
	field("phone", q(fmt.Sprintf("+1 (%03d) %03d-%04d", 200+r.intn(800), r.intn(1000), r.intn(10000))), true)
	field("address", q(fmt.Sprintf("%d %s Street, %s, %05d", 1+r.intn(999), title(r.word()), title(r.word()), r.intn(100000))), true)
	field("about", q(r.sentence(12, 30)+" "+r.sentence(8, 20)), true)
	field("registered", q(fmt.Sprintf("20%02d-%02d-%02dT%02d:%02d:%02d", 10+r.intn(15), 1+r.intn(12), 1+r.intn(28), r.intn(24), r.intn(60), r.intn(60))), true)
	field("latitude", coord(90), true)
	field("longitude", coord(180), true)
	tags := make([]string, 3+r.intn(5))
	for i := range tags {
		tags[i] = q(r.word())
	}
	field("tags", "["+strings.Join(tags, ", ")+"]", true)
	friends := make([]string, 1+r.intn(3))
	for i := range friends {
		friends[i] = fmt.Sprintf("{\"id\": %d, \"name\": %s}", i, q(title(r.word())+" "+title(r.word())))
	}
	field("friends", "["+strings.Join(friends, ", ")+"]", true)
	field("favoriteFruit", q(r.pick([]string{"apple", "banana", "cherry", "plum"})), false)
	b.WriteString("  }")
	return b.String()
}

// genBitmap builds a 512x512 8-bit greyscale BMP: 54 header bytes, a
// 256-entry palette and smooth shaded pixels with a little noise, integer
// arithmetic only. 14+40+1024+262144 = 263222 bytes, the catalogue's size.
func genBitmap(size int) []byte {
	const w, h, palette, offset = 512, 512, 256 * 4, 14 + 40 + 256*4
	r := &rng{s: 0x424d50}
	b := make([]byte, 0, size)
	le32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	le16 := func(v uint16) { b = binary.LittleEndian.AppendUint16(b, v) }
	b = append(b, 'B', 'M')
	le32(uint32(offset + w*h))
	le32(0)
	le32(offset)
	le32(40)
	le32(w)
	le32(h)
	le16(1)
	le16(8)
	le32(0)
	le32(w * h)
	le32(2835)
	le32(2835)
	le32(256)
	le32(0)
	for i := range palette / 4 {
		b = append(b, byte(i), byte(i), byte(i), 0)
	}
	// A coarse grid of random levels, interpolated bilinearly.
	const cell = 32
	var grid [h/cell + 1][w/cell + 1]int
	for y := range grid {
		for x := range grid[y] {
			grid[y][x] = 40 + r.intn(176)
		}
	}
	for y := range h {
		gy, fy := y/cell, y%cell
		for x := range w {
			gx, fx := x/cell, x%cell
			top := grid[gy][gx]*(cell-fx) + grid[gy][gx+1]*fx
			bot := grid[gy+1][gx]*(cell-fx) + grid[gy+1][gx+1]*fx
			v := (top*(cell-fy) + bot*fy) / (cell * cell)
			// A bright disc and a dark band, for some edges.
			if dx, dy := x-300, y-220; dx*dx+dy*dy < 90*90 {
				v += 50
			}
			if (x+y)%170 < 12 {
				v -= 35
			}
			v += r.intn(9) - 4
			b = append(b, byte(min(255, max(0, v))))
		}
	}
	for len(b) < size {
		b = append(b, 0)
	}
	return b[:size]
}

var germanWords = []string{
	"und", "der", "die", "das", "ich", "nicht", "ist", "mit", "sich", "auf", "ein",
	"eine", "zu", "den", "dem", "du", "mir", "mich", "wie", "was", "so", "noch",
	"doch", "wohl", "nur", "schon", "Herz", "Welt", "Geist", "Nacht", "Licht",
	"Zeit", "über", "schön", "Gefühl", "Natur", "Himmel", "Erde", "müssen",
	"können", "Träume", "größer", "weiß", "Blick", "Glück", "Frühling", "hören",
	"Stimme", "Mädchen", "Brüder", "lange", "Sinn", "Wort", "Tat", "Kraft",
	"ewig", "Seele", "Leben", "Tod", "hinaus", "fühlen", "dunkel", "hell",
	"singen", "Lied", "Wald", "Feld", "Stadt", "Tor", "Kammer", "Buch", "Bücher",
	"Wissen", "Schüler", "Meister", "Gast", "Freund", "kommen", "gehen", "sehen",
	"sagen", "hoffen", "fürchten", "Morgen", "Abend", "Straße", "Brunnen",
	"Gärten", "Blumen", "Wein", "Becher", "Flamme", "Rauch", "Sterne", "Mond",
}

var germanSpeakers = []string{
	"DER GELEHRTE", "DER GAST", "DIE ALTE", "DER SCHÜLER", "DER CHOR",
	"DIE STIMME", "DER WANDERER", "DAS MÄDCHEN", "DER WIRT",
}

// genGermanText builds German-like verse with speaker headings and CRLF line
// ends, in UTF-8, padded with blank lines to exactly size bytes.
func genGermanText(size int) []byte {
	r := &rng{s: 0x46415553}
	var b strings.Builder
	b.WriteString("Das Spiel vom Wandern und Wissen\r\n\r\nEine Dichtung in Versen\r\n\r\n\r\n")
	scene := 1
	for {
		var st strings.Builder
		if r.intn(12) == 0 || scene == 1 {
			fmt.Fprintf(&st, "\r\n%d. Szene. %s.\r\n\r\n", scene, title(r.pick(germanWords)))
		}
		st.WriteString(r.pick(germanSpeakers) + ":\r\n")
		for range 2 + r.intn(9) {
			n := 4 + r.intn(5)
			ws := make([]string, n)
			for i := range ws {
				ws[i] = r.pick(germanWords)
			}
			line := strings.Join(ws, " ")
			r0, sz := utf8.DecodeRuneInString(line)
			line = strings.ToUpper(string(r0)) + line[sz:]
			st.WriteString(line + r.pick([]string{",", ",", ".", "!", "?", ";", ""}) + "\r\n")
		}
		st.WriteString("\r\n")
		if b.Len()+st.Len() > size {
			break
		}
		if strings.HasPrefix(st.String(), "\r\n") {
			scene++
		}
		b.WriteString(st.String())
	}
	for b.Len()+2 <= size {
		b.WriteString("\r\n")
	}
	if b.Len() < size {
		b.WriteByte(' ')
	}
	return []byte(b.String())
}

// htmlSpecial holds words with exactly one non-ASCII character each.
var htmlSpecial = []string{
	"café", "naïve", "über", "señor", "façade", "Zürich", "crème", "Málaga",
	"Köln", "Gödel", "mañana", "Bogotá", "Montréal", "Curaçao", "fiancé",
}

// htmlNonASCII is the number of non-ASCII characters in html_data1, as the
// catalogue describes it.
const htmlNonASCII = 26

// genHTML builds an HTML page of sections, paragraphs, lists and tables with
// exactly htmlNonASCII non-ASCII characters, padded with blanks before the
// closing tags to exactly size bytes.
func genHTML(size int) []byte {
	r := &rng{s: 0x48544d4c}
	head := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<title>" + title(r.word()) + " " + title(r.word()) + " - Archive</title>\n" +
		"<style>\nbody { font-family: sans-serif; margin: 2em; color: #222; }\n" +
		"h2 { border-bottom: 1px solid #ccc; }\ntable { border-collapse: collapse; }\n" +
		"td, th { border: 1px solid #999; padding: 2px 6px; }\n.note { color: #666; }\n</style>\n" +
		"</head>\n<body>\n<div id=\"page\">\n"
	const foot = "\n</div>\n</body>\n</html>\n"
	// Blocks, each a paragraph or other element; paragraphs are listed
	// so the non-ASCII words can be spread over them.
	var blocks []string
	var paras []int
	total := len(head) + len(foot)
	budget := size - htmlNonASCII*12 - 64
	for sec := 1; ; sec++ {
		var blk []string
		blk = append(blk, fmt.Sprintf("<div class=\"section\" id=\"s%d\">\n<h2>%s %s</h2>\n", sec, title(r.word()), r.word()))
		for range 1 + r.intn(4) {
			var p strings.Builder
			p.WriteString("<p>")
			for i := range 2 + r.intn(5) {
				if i > 0 {
					p.WriteByte(' ')
				}
				s := r.sentence(6, 18)
				if r.intn(3) == 0 {
					w := r.word()
					s = strings.Replace(s, " ", fmt.Sprintf(" <a href=\"/wiki/%s\">%s</a> ", title(w), w), 1)
				}
				p.WriteString(s)
			}
			p.WriteString("</p>\n")
			blk = append(blk, p.String())
		}
		switch r.intn(3) {
		case 0:
			var l strings.Builder
			l.WriteString("<ul>\n")
			for range 2 + r.intn(5) {
				fmt.Fprintf(&l, "<li><a href=\"#%s\">%s</a> <span class=\"note\">(%d)</span></li>\n", r.word(), title(r.word()), r.intn(1000))
			}
			l.WriteString("</ul>\n")
			blk = append(blk, l.String())
		case 1:
			var t strings.Builder
			t.WriteString("<table>\n<tr><th>Name</th><th>Value</th><th>Year</th></tr>\n")
			for range 2 + r.intn(4) {
				fmt.Fprintf(&t, "<tr><td>%s</td><td>%d.%d</td><td>%d</td></tr>\n", title(r.word()), r.intn(100), r.intn(10), 1900+r.intn(120))
			}
			t.WriteString("</table>\n")
			blk = append(blk, t.String())
		}
		blk = append(blk, "</div>\n")
		n := 0
		for _, s := range blk {
			n += len(s)
		}
		if total+n > budget {
			break
		}
		for _, s := range blk {
			if strings.HasPrefix(s, "<p>") {
				paras = append(paras, len(blocks))
			}
			blocks = append(blocks, s)
		}
		total += n
	}
	// One non-ASCII word at the start of evenly spaced paragraphs.
	for i := range htmlNonASCII {
		k := paras[(2*i+1)*len(paras)/(2*htmlNonASCII)]
		blocks[k] = "<p>" + r.pick(htmlSpecial) + " " + blocks[k][len("<p>"):]
	}
	body := strings.Join(blocks, "")
	pad := size - len(head) - len(body) - len(foot)
	return []byte(head + body + strings.Repeat(" ", pad) + foot)
}

// genPDF builds a PDF-like document: a header, page, font and content
// objects with text operators, and image-like streams of incompressible
// bytes (as flate-compressed streams look), then a cross-reference table,
// padded with a comment before it to exactly size bytes.
func genPDF(size int) []byte {
	r := &rng{s: 0x504446}
	b := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, len(b))
		b = fmt.Appendf(b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			b = append(b, "\nstream\n"...)
			b = append(b, stream...)
			b = append(b, "\nendstream"...)
		}
		b = append(b, "\nendobj\n"...)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Count 0 /Kids [] >>", nil) // page tree; kids are implied
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", nil)
	const reserve = 64 * 1024 // room for the last object, the xref and the trailer
	for len(b) < size-reserve {
		if r.intn(5) < 2 {
			var s strings.Builder
			s.WriteString("BT\n/F1 10 Tf\n12 TL\n72 720 Td\n")
			for range 20 + r.intn(40) {
				fmt.Fprintf(&s, "(%s) Tj T*\n", r.sentence(5, 12))
			}
			s.WriteString("ET")
			obj(fmt.Sprintf("<< /Length %d >>", s.Len()), []byte(s.String()))
		} else {
			n := 2000 + r.intn(20000)
			data := make([]byte, n)
			for i := 0; i < n; i += 8 {
				var w [8]byte
				binary.LittleEndian.PutUint64(w[:], r.next())
				copy(data[i:], w[:])
			}
			obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode /Length %d >>",
				64+r.intn(400), 64+r.intn(400), n), data)
		}
		offsets = append(offsets, len(b))
		b = fmt.Appendf(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R /Resources << /Font << /F1 3 0 R >> >> >>\nendobj\n", len(offsets), len(offsets)-1)
	}
	tail := func(xref int) []byte {
		t := fmt.Appendf(nil, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
		for _, o := range offsets {
			t = fmt.Appendf(t, "%010d 00000 n \n", o)
		}
		return fmt.Appendf(t, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	}
	// One more image-like stream takes up most of the room left; a
	// comment pads the rest. The last stream and page object add two
	// xref entries of 20 bytes.
	n := size - len(b) - len(tail(size)) - 2*20 - 400
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(r.next())
	}
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode /Length %d >>", n), data)
	offsets = append(offsets, len(b))
	b = fmt.Appendf(b, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>\nendobj\n", len(offsets), len(offsets)-1)
	// The padding moves the xref, whose offset is printed in the tail:
	// iterate until the sizes agree.
	pad := 0
	for range 4 {
		pad = size - len(b) - len(tail(len(b)+pad))
	}
	if pad < 2 || len(b)+pad+len(tail(len(b)+pad)) != size {
		panic("autobahn: pdf dataset does not fit its size")
	}
	comment := make([]byte, pad)
	for i := range comment {
		comment[i] = ' '
	}
	comment[0] = '%'
	for i := 80; i < pad-1; i += 80 {
		comment[i-1], comment[i] = '\n', '%'
	}
	comment[pad-1] = '\n'
	out := append(b, comment...)
	return append(out, tail(len(b)+pad)...)
}
