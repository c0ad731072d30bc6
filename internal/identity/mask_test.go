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
		{"110105 1949123 1002X", false}, // grouped otherwise: not read as one run
		{"津市监罚〔2026〕1号", false},
		{"", false},
	} {
		if got := InText(c.s); got != c.want {
			t.Errorf("InText(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}
