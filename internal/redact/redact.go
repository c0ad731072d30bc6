// Package redact masks what may be an identity number in free text: the
// messages the platform hands out, and the purposes and notes people type,
// which are stored in clear and shown to others. A resident identity number
// is 18 characters (15 for the old ones), all digits but perhaps a final X;
// nothing in such a text needs to carry one whole.
package redact

// Numbers masks every run of 15 to 18 digits (the last perhaps X or x)
// that is not inside a run of 32 or more hex digits (an id such as a
// check's, or a hash): it keeps the run's first six and last four
// characters, like identity.MaskNumber. Text without such a run is
// returned as it is.
func Numbers(s string) string {
	var b []byte
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		end := i
		for end < len(s) && isHex(s[end]) {
			end++
		}
		if end-i >= idLength {
			i = end
			continue
		}
		for i < end {
			if !isDigit(s[i]) {
				i++
				continue
			}
			j := i
			for j < end && isDigit(s[j]) {
				j++
			}
			if j == end && j < len(s) && (s[j] == 'X' || s[j] == 'x') {
				j++
			}
			if n := j - i; n >= 15 && n <= 18 {
				if b == nil {
					b = []byte(s)
				}
				for k := i + 6; k < j-4; k++ {
					b[k] = '*'
				}
			}
			i = j
		}
	}
	if b == nil {
		return s
	}
	return string(b)
}

// idLength is the length of the platform's ids (package ids); a run of hex
// digits this long or longer is an id or a hash, not an identity number.
const idLength = 32

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }
