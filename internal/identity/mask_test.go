package identity

import "testing"

func TestMaskNameIn(t *testing.T) {
	for _, c := range []struct{ text, name, want string }{
		{"核查张三购票", "张三", "核查张*购票"},
		{"张三与张三丰", "张三", "张*与张*丰"},
		{"欧阳娜娜办证", "欧阳娜娜", "欧阳**办证"},
		{"check for Li Lei today", "Li Lei", "check for L* L** today"},
		{"核查王购票", "王", "核查王购票"}, // one character: left alone
		{"购票核查", "", "购票核查"},
		{"购票核查", "李四", "购票核查"},
	} {
		if got := MaskNameIn(c.text, c.name); got != c.want {
			t.Errorf("MaskNameIn(%q, %q) = %q, want %q", c.text, c.name, got, c.want)
		}
	}
}

func TestInText(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"11010519491231002X", true},
		{"11010519491231002x", true},
		{"案号11010519491231002X", true},
		{"110105491231002", true},      // legacy 15 digits
		{"110105194912310021", false},  // wrong check character
		{"202605010000000001", false},  // a dated serial: not a birth date
		{"2026050100000001", false},    // 16 digits
		{"1101051949123100211", false}, // 19 digits, no window a valid number
		{"11010519491231002X01", true}, // a number and a sequence number
		{"011010519491231002X", true},
		{"１１０１０５１９４９１２３１００２Ｘ", true},   // full-width
		{"110105 19491231 002X", true}, // grouped
		{"110105-19491231-002X", true},
		{"110105　19491231　002X", true}, // ideographic spaces
		{"1101 0519 4912 3100 2X", true},
		{"1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 X", true},
		{"110105.19491231/002X", true},
		{"120101〔19800101〕1234", true},
		{"值班 2021-05-01、2022-06-03、2023-07-01", false}, // dates in a row
		{"110105    19491231002X", false},              // four spaces: two numbers
		{"津市监罚〔2026〕1号", false},
		{"", false},
	} {
		if got := InText(c.s); got != c.want {
			t.Errorf("InText(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestMaskText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"核查11010519491231002X购票", "核查110105********002X购票"},
		{"12010419670116802101", "120104********802101"},     // a run of 20: masked whole
		{"110105　19491231　002X 号", "110105　********　002X 号"}, // a valid number, grouped
		{"1101 0519 4912 3100 2X", "1101 05** **** **00 2X"},
		{"2026-05-01 12345678 号", "2026-05-01 12345678 号"},
		{"案号202605010000000001", "案号202605010000000001"},                                     // a case number of 18 digits: no identity number
		{"核查 12010119800101123412345678901234 购票", "核查 120101********123412345678901234 购票"}, // run on past 32 digits
		{"120101 - 19800101 - 1234", "120101 - ******** - 1234"},
		{"(120101)198001011234", "(120101)********1234"},
		{"当事人120105〔19881212〕8888", "当事人120105〔********〕8888"},
		{"120101・19800101・1234", "120101・********・1234"},
		{"120101~19800101~1234", "120101~********~1234"},
		// Numbers in a row are groups of their own: none is read across them.
		{"该当事人于2021-05-01、2022-06-01、2023-07-01三次违法", "该当事人于2021-05-01、2022-06-01、2023-07-01三次违法"},
		{"处罚日期：2012-05-01，2013-06-01，2014-07-01", "处罚日期：2012-05-01，2013-06-01，2014-07-01"},
		{"时间 2022-06-01 12:00:00 2022-06-02 13:00:00", "时间 2022-06-01 12:00:00 2022-06-02 13:00:00"},
		{"金额 12,345.00、20,220,601.00、1,234.00", "金额 12,345.00、20,220,601.00、1,234.00"},
		{"电话 022-23456789、022-19800101、13812345678", "电话 022-23456789、022-19800101、13812345678"},
		{"110105194912310021", "110105********0021"}, // the check character wrong: still the person's // no valid number
		{"id 01a22c15ddda48874b3a0d85f3466c62", "id 01a22c15ddda48874b3a0d85f3466c62"},
	} {
		if got := MaskText(c.in); got != c.want {
			t.Errorf("MaskText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
