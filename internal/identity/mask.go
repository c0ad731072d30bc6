package identity

import (
	"maps"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskNumber masks a document number for any output that is not the person's
// own. An 18-character number keeps its first 6 and last 4 characters
// (110105********002X). Any other length keeps at most the first 2 and the
// last 2, and never more than a third of the characters; empty stays empty.
// Characters are runes, and the result has as many runes as n.
func MaskNumber(n string) string {
	r := []rune(n)
	head, tail := 6, 4
	if len(r) != 18 {
		visible := min(4, len(r)/3)
		head, tail = (visible+1)/2, visible/2
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

// compoundSurnames are two-character surnames, kept whole when masking a
// name of three or more characters.
var compoundSurnames = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`
		欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕
		端木 独孤 南宫 西门 百里 呼延 太史 万俟 闻人 赫连 澹台 宗政 濮阳 公冶 太叔
		申屠 仲孙 钟离 鲜于 司空 闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良 漆雕
		乐正 宰父 谷梁 拓跋 夹谷 段干 东郭 南门 羊舌 微生 梁丘 左丘 第五 公羊 东门`) {
		compoundSurnames[s] = true
	}
}

// MaskName masks a person's name. A Chinese name keeps its surname (one
// character, or two for a compound surname such as 欧阳 when the name is
// longer than two characters): 张三 -> 张*, 欧阳娜娜 -> 欧阳**. A name of one
// character becomes "*". A name without Chinese characters keeps the first
// letter of each word: John Smith -> J*** S****. Counts runes, not bytes.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	r := []rune(name)
	switch {
	case len(r) == 0:
		return ""
	case len(r) == 1:
		return "*"
	case !strings.ContainsFunc(name, isHan):
		words := strings.Fields(name)
		for i, w := range words {
			words[i] = keep(w, 1)
		}
		return strings.Join(words, " ")
	case len(r) > 2 && compoundSurnames[string(r[:2])]:
		return keep(name, 2)
	default:
		return keep(name, 1)
	}
}

// MaskNameIn masks every occurrence of a person's name in a free text
// typed about them (a check's purpose), as MaskName does. A name of one
// character is left alone: it would mask that character wherever it
// stands.
func MaskNameIn(text, name string) string {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) < 2 || !strings.Contains(text, name) {
		return text
	}
	return strings.ReplaceAll(text, name, MaskName(name))
}

// MaskAbout masks, in a text typed about a person, what may be an
// identity number (MaskText) and the person's name (MaskNameIn; name may
// be empty when it is not known).
func MaskAbout(text, name string) string { return MaskNameIn(MaskText(text), name) }

// MaskFields returns a record's fields with their text masked as MaskAbout
// does, for any eyes but the department that wrote them; fields holds no
// such text is returned as it is.
func MaskFields(fields map[string]any, name string) map[string]any {
	var out map[string]any
	for k, v := range fields {
		text, ok := v.(string)
		if !ok {
			continue
		}
		if m := MaskAbout(text, name); m != text {
			if out == nil {
				out = maps.Clone(fields)
			}
			out[k] = m
		}
	}
	if out == nil {
		return fields
	}
	return out
}

// keep returns s with every rune after the first n replaced by '*'.
func keep(s string, n int) string {
	r := []rune(s)
	for i := n; i < len(r); i++ {
		r[i] = '*'
	}
	return string(r)
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }
