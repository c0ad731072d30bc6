package identity

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pubcredit/internal/clock"
)

var today = clock.Date{Year: 2026, Month: time.November, Day: 30}

// mod112 appends the ISO 7064 MOD 11-2 check character to 17 digits, written
// the recursive way (p = (p+d)*2 mod 11) rather than with the weight table
// the package uses, so that the two check each other.
func mod112(t *testing.T, n17 string) string {
	t.Helper()
	if len(n17) != 17 {
		t.Fatalf("mod112(%q): need 17 digits", n17)
	}
	p := 0
	for _, c := range n17 {
		p = (p + int(c-'0')) * 2 % 11
	}
	return n17 + string("0123456789X"[(12-p)%11])
}

func TestMod112MatchesKnownGood(t *testing.T) {
	for _, n := range []string{"11010519491231002X", "440308199901101512"} {
		if got := mod112(t, n[:17]); got != n {
			t.Errorf("mod112(%q) = %q, want %q", n[:17], got, n)
		}
	}
}

func date(y int, m time.Month, d int) clock.Date { return clock.Date{Year: y, Month: m, Day: d} }

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		typ    DocType
		number string
		want   Document
	}{
		{"accepts a known-good number ending in X", ResidentID, "11010519491231002X",
			Document{ResidentID, "11010519491231002X", date(1949, 12, 31), "female"}},
		{"accepts a known-good number ending in a digit", ResidentID, "440308199901101512",
			Document{ResidentID, "440308199901101512", date(1999, 1, 10), "male"}},
		{"accepts a lower-case x", ResidentID, "11010519491231002x",
			Document{ResidentID, "11010519491231002X", date(1949, 12, 31), "female"}},
		{"trims spaces, tabs and the full-width space", ResidentID, " \t\u300011010519491231002X \n",
			Document{ResidentID, "11010519491231002X", date(1949, 12, 31), "female"}},
		{"converts full-width digits and letters", ResidentID, "１１０１０５１９４９１２３１００２ｘ",
			Document{ResidentID, "11010519491231002X", date(1949, 12, 31), "female"}},
		// Expected values are the known-good numbers above, with "19" and the check removed.
		{"upgrades a 15-digit legacy number", ResidentID, "110105491231002",
			Document{ResidentID, "11010519491231002X", date(1949, 12, 31), "female"}},
		{"upgrades another 15-digit legacy number", ResidentID, "440308990110151",
			Document{ResidentID, "440308199901101512", date(1999, 1, 10), "male"}},
		{"accepts a computed resident number", ResidentID, mod112(t, "32010220000229003"),
			Document{ResidentID, mod112(t, "32010220000229003"), date(2000, 2, 29), "male"}},
		{"accepts a birth date of today", ResidentID, mod112(t, "32010220261130004"),
			Document{ResidentID, mod112(t, "32010220261130004"), today, "female"}},
		{"accepts a birth date of 1900-01-01", ResidentID, mod112(t, "32010219000101001"),
			Document{ResidentID, mod112(t, "32010219000101001"), date(1900, 1, 1), "male"}},
		{"accepts an old Taiwan region code 71", ResidentID, mod112(t, "71000019700101002"),
			Document{ResidentID, mod112(t, "71000019700101002"), date(1970, 1, 1), "female"}},
		{"accepts a Hong Kong residence permit", HMTPermit, mod112(t, "81000019900101001"),
			Document{HMTPermit, mod112(t, "81000019900101001"), date(1990, 1, 1), "male"}},
		{"accepts a Macao residence permit", HMTPermit, mod112(t, "82000019851231002"),
			Document{HMTPermit, mod112(t, "82000019851231002"), date(1985, 12, 31), "female"}},
		{"accepts a Taiwan residence permit", HMTPermit, mod112(t, "83000020010715123"),
			Document{HMTPermit, mod112(t, "83000020010715123"), date(2001, 7, 15), "male"}},
		{"turns a resident_id with an HMT prefix into an HMT permit", ResidentID, mod112(t, "81000019900101001"),
			Document{HMTPermit, mod112(t, "81000019900101001"), date(1990, 1, 1), "male"}},
		{"accepts a foreigner permanent residence ID", ForeignPR, mod112(t, "91184019850612001"),
			Document{ForeignPR, mod112(t, "91184019850612001"), date(1985, 6, 12), "male"}},
		{"accepts a passport", Passport, "E12345678", Document{Type: Passport, Number: "E12345678"}},
		{"upper-cases a passport", Passport, " g1234567 ", Document{Type: Passport, Number: "G1234567"}},
		{"accepts a long foreign passport", Passport, "AB1234567890CDEFGH12", Document{Type: Passport, Number: "AB1234567890CDEFGH12"}},
		{"accepts an all-digit passport of 5", Passport, "12345", Document{Type: Passport, Number: "12345"}},
		{"accepts a Hong Kong pass", HKMacaoPass, "h12345678", Document{Type: HKMacaoPass, Number: "H12345678"}},
		{"accepts a Macao pass with 10 digits", HKMacaoPass, "M1234567890", Document{Type: HKMacaoPass, Number: "M1234567890"}},
		{"accepts a Taiwan pass", TaiwanPass, "12345678", Document{Type: TaiwanPass, Number: "12345678"}},
		{"accepts a Taiwan pass with a suffix", TaiwanPass, "1234567801", Document{Type: TaiwanPass, Number: "1234567801"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.typ, tt.number, today)
			if err != nil {
				t.Fatalf("Parse(%s, %q) error: %v", tt.typ, tt.number, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%s, %q) = %+v, want %+v", tt.typ, tt.number, got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		typ     DocType
		number  string
		code    string
		message string // a part of the message
	}{
		{"rejects a number whose check digit is wrong", ResidentID, "110105194912310023", "check_digit", `check character is "3", expected "X"`},
		{"rejects a digit check where X is due", ResidentID, "440308199901101510", "check_digit", `check character is "0", expected "2"`},
		{"rejects a 15-digit number in a wrong month", ResidentID, "110105491331002", "birth_date", "19491331"},
		{"rejects February 30", ResidentID, mod112(t, "11010519490230002"), "birth_date", "19490230 is not a calendar date"},
		{"rejects February 29 in a common year", ResidentID, mod112(t, "11010519490229002"), "birth_date", "not a calendar date"},
		{"rejects month 13", ResidentID, mod112(t, "11010519491331002"), "birth_date", "not a calendar date"},
		{"rejects day 00", ResidentID, mod112(t, "11010519491200002"), "birth_date", "not a calendar date"},
		{"rejects a birth date before 1900", ResidentID, mod112(t, "11010518991231002"), "birth_date", "before 1900-01-01"},
		{"rejects a birth date after today", ResidentID, mod112(t, "11010520261201002"), "future_birth", "2026-12-01 is after 2026-11-30"},
		{"rejects unknown province 99", ResidentID, mod112(t, "99010519491231002"), "region", `"99"`},
		{"rejects province 00", ResidentID, mod112(t, "00010519491231002"), "region", `"00"`},
		{"reports the region before the birth date", ResidentID, mod112(t, "99010519491331002"), "region", ""},
		{"reports the birth date before the check digit", ResidentID, "110105194913310020", "birth_date", ""},
		{"reports a future birth before the check digit", ResidentID, "110105202612010020", "future_birth", ""},
		{"reports the length before the format", ResidentID, "11010519491231002XY", "length", "19 characters"},
		{"rejects 17 characters", ResidentID, "11010519491231002", "length", "17 characters, expected 18"},
		{"rejects 16 characters", ResidentID, "1101051949123100", "length", "16 characters"},
		{"rejects a letter in the middle", ResidentID, "1101051949A231002X", "format", `character 11 is "A", expected a digit`},
		{"rejects a letter as check character other than X", ResidentID, "11010519491231002A", "format", `character 18 is "A"`},
		{"rejects X in a 15-digit number", ResidentID, "11010549123100X", "format", "character 15"},
		{"rejects an embedded space", ResidentID, "110105 9491231002X", "format", "character 7 is a space"},
		{"rejects an embedded control character", ResidentID, "110105\x009491231002X", "format", "character 7 is a control character"},
		{"rejects invalid UTF-8", ResidentID, "110105\xff9491231002X", "format", "character 7 is not valid text"},
		{"rejects an empty number", ResidentID, "", "required", ""},
		{"rejects a number of spaces", Passport, "   \u3000", "required", ""},
		{"rejects an unknown type", DocType("driving_licence"), "11010519491231002X", "type", "resident_id"},
		{"rejects an empty type", DocType(""), "11010519491231002X", "type", ""},
		{"rejects an HMT permit without its prefix", HMTPermit, "11010519491231002X", "region", `"110105"`},
		{"rejects an HMT permit with prefix 810001", HMTPermit, mod112(t, "81000119900101001"), "region", `"810001"`},
		{"rejects a 15-digit HMT permit", HMTPermit, "810000900101001", "length", "expected 18"},
		{"rejects an HMT permit with a wrong check", HMTPermit, "810000199001010010", "check_digit", "expected"},
		{"rejects a foreign PR not starting with 9", ForeignPR, "11010519491231002X", "format", `character 1 is "1", expected "9"`},
		{"rejects a foreign PR from an unknown province", ForeignPR, mod112(t, "99984019850612001"), "region", `"99"`},
		{"rejects a foreign PR with a future birth", ForeignPR, mod112(t, "91184020270101001"), "future_birth", ""},
		{"rejects a foreign PR with a wrong check", ForeignPR, "911840198506120010", "check_digit", "expected"},
		{"rejects a passport of 4", Passport, "E123", "length", "4 characters"},
		{"rejects a passport of 21", Passport, "E12345678901234567890", "length", "21 characters"},
		{"rejects a passport with a dash", Passport, "E1234-567", "format", `character 6 is "-"`},
		{"rejects a passport without a digit", Passport, "ABCDEFG", "format", "no digit"},
		{"rejects a passport with Chinese", Passport, "护照12345", "format", `character 1 is "护"`},
		{"rejects a pass starting with A", HKMacaoPass, "A12345678", "format", `"H" or "M"`},
		{"rejects a pass of 7 digits", HKMacaoPass, "H1234567", "length", ""},
		{"rejects a pass with a letter after H", HKMacaoPass, "H1234567A", "format", "character 9"},
		{"rejects a Taiwan pass of 7 digits", TaiwanPass, "1234567", "length", ""},
		{"rejects a Taiwan pass with a bracketed suffix", TaiwanPass, "12345678(B)", "length", ""},
		{"rejects a Taiwan pass with a letter", TaiwanPass, "1234567A", "format", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.typ, tt.number, today)
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("Parse(%s, %q) = %+v, %v; want a *Problem", tt.typ, tt.number, got, err)
			}
			if got != (Document{}) {
				t.Errorf("Parse returned %+v with an error", got)
			}
			if p.Code != tt.code || !strings.Contains(p.Message, tt.message) {
				t.Errorf("Parse(%s, %q) = %q %q, want code %q and a message containing %q", tt.typ, tt.number, p.Code, p.Message, tt.code, tt.message)
			}
			if p.Error() != p.Message {
				t.Errorf("Error() = %q, want the message", p.Error())
			}
		})
	}
}

func TestParseWithoutToday(t *testing.T) {
	n := mod112(t, "11010520991231002")
	if _, err := Parse(ResidentID, n, clock.Date{}); err != nil {
		t.Errorf("a zero today must skip the future check: %v", err)
	}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want DocType
		ok   bool
	}{
		{"", ResidentID, true},
		{"  ", ResidentID, true},
		{"resident_id", ResidentID, true},
		{" RESIDENT_ID ", ResidentID, true},
		{"身份证", ResidentID, true},
		{"居民身份证", ResidentID, true},
		{" 港澳居民居住证 ", HMTPermit, true},
		{"台湾居民居住证", HMTPermit, true},
		{"港澳台居民居住证", HMTPermit, true},
		{"hmt_residence_permit", HMTPermit, true},
		{"外国人永久居留身份证", ForeignPR, true},
		{"外国人永久居留证", ForeignPR, true},
		{"Foreign_Permanent_Residence", ForeignPR, true},
		{"护照", Passport, true},
		{"中国护照", Passport, true},
		{"外国护照", Passport, true},
		{"passport", Passport, true},
		{"港澳居民来往内地通行证", HKMacaoPass, true},
		{"hk_macao_pass", HKMacaoPass, true},
		{"台湾居民来往大陆通行证", TaiwanPass, true},
		{"taiwan_pass", TaiwanPass, true},
		{"驾驶证", "", false},
		{"往来港澳通行证", "", false},
		{"passport2", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseType(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseType(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTypes(t *testing.T) {
	ts := Types()
	if len(ts) != 6 {
		t.Fatalf("Types() = %v, want 6 types", ts)
	}
	for _, ty := range ts {
		if got, ok := ParseType(string(ty)); !ok || got != ty {
			t.Errorf("ParseType(%q) = %q, %v", ty, got, ok)
		}
	}
	ts[0] = "changed"
	if Types()[0] != ResidentID {
		t.Error("Types() returns a shared slice")
	}
}

func TestAgeOn(t *testing.T) {
	tests := []struct {
		name  string
		birth clock.Date
		on    clock.Date
		want  int
	}{
		{"is 17 the day before the 18th birthday", date(2008, 12, 1), date(2026, 11, 30), 17},
		{"is 18 on the 18th birthday", date(2008, 12, 1), date(2026, 12, 1), 18},
		{"is 18 the day after the 18th birthday", date(2008, 12, 1), date(2026, 12, 2), 18},
		{"is 17 a month before the birthday", date(2008, 12, 1), date(2026, 11, 1), 17},
		{"is 0 on the day of birth", date(2026, 11, 30), date(2026, 11, 30), 0},
		{"is 17 on 28 February when born on 29 February", date(2008, 2, 29), date(2026, 2, 28), 17},
		{"is 18 on 1 March when born on 29 February", date(2008, 2, 29), date(2026, 3, 1), 18},
		{"is 77 at the end of 2026", date(1949, 12, 31), date(2026, 12, 31), 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Document{Birth: tt.birth}.AgeOn(tt.on)
			if !ok || got != tt.want {
				t.Errorf("AgeOn(%s) with birth %s = %d, %v; want %d", tt.on, tt.birth, got, ok, tt.want)
			}
		})
	}
	if _, ok := (Document{Type: Passport, Number: "E12345678"}).AgeOn(today); ok {
		t.Error("AgeOn without a birth date reports ok")
	}
	d, err := Parse(ResidentID, mod112(t, "11010520081201001"), today)
	if err != nil {
		t.Fatal(err)
	}
	if age, _ := d.AgeOn(today); age != 17 {
		t.Errorf("parsed document age on %s = %d, want 17", today, age)
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"440308199901101512", "440308********1512"},
		{"", ""},
		{"1", "*"},
		{"12", "**"},
		{"123", "1**"},
		{"12345", "1****"},
		{"E1234567", "E******7"},
		{"H12345678", "H1******8"},
		{"M1234567890", "M1********0"},
		{"AB1234567890", "AB********90"},
		{"AB1234567890CDEFGH1", "AB***************H1"},
		{"AB1234567890CDEFGH12", "AB****************12"},
		{"张三李四王五赵六钱七孙八周九吴十郑一", "张三李四王五********吴十郑一"},
	}
	for _, tt := range tests {
		got := MaskNumber(tt.in)
		if got != tt.want {
			t.Errorf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
		n := utf8.RuneCountInString(tt.in)
		if visible := n - strings.Count(got, "*"); n != 18 && visible*3 > n {
			t.Errorf("MaskNumber(%q) shows %d of %d characters", tt.in, visible, n)
		}
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"张三", "张*"},
		{"王小明", "王**"},
		{"欧阳娜娜", "欧阳**"},
		{"诸葛亮", "诸葛*"},
		{"司马光", "司马*"},
		{"上官婉儿", "上官**"},
		{"欧阳", "欧*"},
		{"王", "*"},
		{"J", "*"},
		{"", ""},
		{"  张三 ", "张*"},
		{"阿卜杜·热合曼", "阿******"},
		{"John Smith", "J*** S****"},
		{"john  smith", "j*** s****"},
		{"Madonna", "M******"},
		{"Zoë Ångström", "Z** Å*******"},
		{"\xff\xfe", "\ufffd*"},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCheckUSCC(t *testing.T) {
	tests := []struct {
		name, in, want, code, message string
	}{
		{"accepts the known-good code", "91350100M000100Y43", "91350100M000100Y43", "", ""},
		{"normalises case and spaces", " 91350100m000100y43\t", "91350100M000100Y43", "", ""},
		{"rejects a wrong check character but returns the code", "91350100M000100Y44", "91350100M000100Y44", "check_digit", `check character is "4", expected "3"`},
		{"rejects the letter O", "91350100O000100Y43", "", "format", `character 9 is "O"`},
		{"rejects the letter I", "I1350100M000100Y43", "", "format", `character 1 is "I"`},
		{"rejects a code of 17", "91350100M000100Y4", "", "length", "17 characters"},
		{"rejects a code of 19", "91350100M000100Y433", "", "length", "19 characters"},
		{"rejects an empty code", "  ", "", "required", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckUSCC(tt.in)
			if got != tt.want {
				t.Errorf("CheckUSCC(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.code == "" {
				if err != nil {
					t.Errorf("CheckUSCC(%q) error: %v", tt.in, err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) || p.Code != tt.code || !strings.Contains(p.Message, tt.message) {
				t.Errorf("CheckUSCC(%q) error = %v, want code %q with %q", tt.in, err, tt.code, tt.message)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for i := range Types() {
		for _, n := range []string{
			"11010519491231002X", "440308199901101512", "11010519491231002x", "110105491231002",
			"810000199001010010", "911840198506120010", "E12345678", "H12345678", "12345678",
			"91350100M000100Y43", "", " \u3000", "１１０１０５１９４９１２３１００２ｘ", "\xff",
		} {
			f.Add(uint8(i), n)
		}
	}
	codes := map[string]bool{"required": true, "length": true, "format": true, "region": true,
		"birth_date": true, "future_birth": true, "check_digit": true, "type": true}
	f.Fuzz(func(t *testing.T, kind uint8, number string) {
		types := Types()
		typ := types[int(kind)%len(types)]
		d, err := Parse(typ, number, today)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || !codes[p.Code] {
				t.Fatalf("Parse(%s, %q) error %v is not a *Problem with a known code", typ, number, err)
			}
		} else {
			for _, again := range []DocType{d.Type, typ} {
				d2, err := Parse(again, d.Number, today)
				if err != nil || d2 != d {
					t.Fatalf("Parse(%s, %q) = %+v, but re-parsing as %s gives %+v, %v", typ, number, d, again, d2, err)
				}
			}
		}
		for _, n := range []string{number, d.Number} {
			m := MaskNumber(n)
			count := utf8.RuneCountInString(n)
			if utf8.RuneCountInString(m) != count {
				t.Fatalf("MaskNumber(%q) = %q changes the length", n, m)
			}
			visible := 0
			for i, r := range []rune(m) {
				if r != '*' && r == []rune(n)[i] {
					visible++
				}
			}
			if count == 18 && visible > 10 {
				t.Fatalf("MaskNumber(%q) = %q shows %d characters", n, m, visible)
			}
		}
		MaskName(number)
		if c, err := CheckUSCC(number); err == nil {
			if c2, err := CheckUSCC(c); err != nil || c2 != c {
				t.Fatalf("CheckUSCC(%q) = %q, but again gives %q, %v", number, c, c2, err)
			}
		}
	})
}
