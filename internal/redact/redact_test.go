package redact

import (
	"strings"
	"testing"
)

func TestNumbers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"购票核查", "购票核查"},
		{"核查11010519491231002X购票", "核查110105********002X购票"},
		{"11010519491231002x", "110105********002x"},
		{"id 120108198001018123.", "id 120108********8123."},
		{"旧号 110105491231002 办理", "旧号 110105*****1002 办理"},                                   // 15 digits
		{"1234567890123456", "123456******3456"},                                             // 16: may be a number cut short
		{"12345678901234", "12345678901234"},                                                 // 14: too short for a number
		{"1234567890123456789", "123456*********6789"},                                       // 19: a bank card's, or a number run on
		{"check 01a22c15ddda48874b3a0d85f3466c62", "check 01a22c15ddda48874b3a0d85f3466c62"}, // an id
		{"ID110105194912310021", "ID110105********0021"},                                     // letters that are hex digits
		{"a110105194912310021b", "a110105********0021b"},
		{"sha 3c9d110105194912310021aa0e4bb2c1f0d9e8a73c9d110105194912310021aa", "sha 3c9d110105194912310021aa0e4bb2c1f0d9e8a73c9d110105194912310021aa"}, // a hash
		{"11010519491231002X11010519491231002X", "110105********002X110105********002X"},
		{"两人 110105194912310021、120108198001018123", "两人 110105********0021、120108********8123"},
		{"１１０１０５１９４９１２３１００２Ｘ", "１１０１０５********００２Ｘ"},           // full-width
		{"核查110105 19491231 002X的", "核查110105 ******** 002X的"}, // grouped 6-8-4
		{"110105-19491231-002x", "110105-********-002x"},
		{"2026-05-01 12345678 号", "2026-05-01 12345678 号"}, // a date and a number: no run of 15
		{"110105 19491231", "110105 19491231"},             // two groups only
		{"", ""},
	} {
		if got := Numbers(c.in); got != c.want {
			t.Errorf("Numbers(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRuns(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"110105　19491231　002X", []string{"11010519491231002X"}},
		{"1201 0119 6508 2014 5X 办", []string{"12010119650820145X"}},
		{"1 1 0 1", []string{"1101"}},
		{"120101－19940508－125X", []string{"12010119940508125X"}},
		{"a 12.34/56_78 b 9", []string{"12345678", "9"}},
		{"12    34", []string{"12", "34"}}, // four spaces part them
		{"12X 34", []string{"12X", "34"}},  // nothing follows an X
		{"check 01a22c15ddda48874b3a0d85f3466c62 7", []string{"7"}},
	} {
		var got []string
		for r := range Runs(c.in) {
			got = append(got, r.Digits)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("Runs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestStar(t *testing.T) {
	if got := Star("a１b2", []int{5, 1, 1}); got != "a*b*" { // offsets out of order, repeated
		t.Errorf("Star = %q", got)
	}
}

func TestMayHold(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"11010519491231002X", true},
		{"１１０１０５１９４９１２３１００２Ｘ", true},
		{"1101051949 12310", true},
		{"11010519491231", false},
		{"津市监罚〔2026〕1号", false},
	} {
		if got := MayHold(c.s); got != c.want {
			t.Errorf("MayHold(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestRunWhole(t *testing.T) {
	var r Run
	for r = range Runs("2021-05-01 1234567") { // groups at 0, 4, 6, 8
		break
	}
	for _, c := range []struct {
		i, j       int
		whole, one bool
	}{
		{0, 8, true, false},  // three whole groups
		{4, 15, true, false}, // 05, 01 and all of 1234567
		{2, 8, false, false}, // starts inside 2021
		{8, 12, true, true},  // within 1234567
		{9, 15, true, true},
	} {
		if w, o := r.Whole(c.i, c.j), r.OneGroup(c.i, c.j); w != c.whole || o != c.one {
			t.Errorf("%q [%d, %d): Whole %v OneGroup %v, want %v %v", r.Digits, c.i, c.j, w, o, c.whole, c.one)
		}
	}
}
