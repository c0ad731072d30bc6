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
