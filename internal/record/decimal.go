package record

import (
	"encoding/json"
	"math"
	"strconv"

	"pubcredit/internal/catalog"
)

// Amounts are exact: number and severity compare them as big.Rat. Nearly
// every amount a department sends is a plain decimal that fits in an int64
// with its national scale applied, and these helpers take that path without
// big.Rat's allocations. Whenever one cannot be sure of the exact answer, it
// reports false and big.Rat decides.

// pow10 are the powers of ten up to 10^18.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// parseDecimal reads -?[0-9]+(\.[0-9]+)? with at most 18 digits as the
// value x / 10^scale.
func parseDecimal(s string) (x int64, scale int, ok bool) {
	i, neg := 0, false
	if i < len(s) && s[i] == '-' {
		i, neg = 1, true
	}
	digits, point := 0, -1
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > 18 {
				return 0, 0, false
			}
			x = x*10 + int64(c-'0')
			if point >= 0 {
				scale++
			}
		case c == '.' && point < 0 && digits > 0:
			point = i
		default:
			return 0, 0, false
		}
	}
	if digits == 0 || point == len(s)-1 {
		return 0, 0, false
	}
	if neg {
		x = -x
	}
	return x, scale, true
}

// wholeNumber returns f as an int64 when it is a whole number of at most
// limit in absolute value.
func wholeNumber(f float64, limit int64) (int64, bool) {
	if f != math.Trunc(f) || math.Abs(f) > float64(limit) {
		return 0, false
	}
	return int64(f), true
}

// compareScaled compares x / 10^scale (scale <= 6) with f, reporting false
// when f is not a whole number small enough to compare exactly.
func compareScaled(x int64, scale int, f float64) (int, bool) {
	m, ok := wholeNumber(f, 1e12)
	if !ok {
		return 0, false
	}
	m *= pow10[scale]
	switch {
	case x < m:
		return -1, true
	case x > m:
		return 1, true
	}
	return 0, true
}

// quickNumber is what number returns for a plain decimal that passes the
// field's checks, when it can be worked out without big.Rat; ok is false
// otherwise, for number to decide.
func quickNumber(f *catalog.Field, s string, national bool) (v json.Number, ok bool) {
	if len(s) > 40 {
		return "", false
	}
	x, scale, ok := parseDecimal(s)
	if !ok {
		return "", false
	}
	if national && f.NationalScale > 0 {
		m, ok := wholeNumber(f.NationalScale, 1e9)
		if !ok || x > math.MaxInt64/m || x < -math.MaxInt64/m {
			return "", false
		}
		x *= m
	}
	for scale > 0 && x%10 == 0 {
		x, scale = x/10, scale-1
	}
	if scale > 6 || (f.Type == catalog.Integer && scale > 0) {
		return "", false // rounded by ratString, or not whole: for big.Rat
	}
	if f.Min != nil {
		if c, ok := compareScaled(x, scale, *f.Min); !ok || c < 0 {
			return "", false
		}
	}
	if f.Max != nil {
		if c, ok := compareScaled(x, scale, *f.Max); !ok || c > 0 {
			return "", false
		}
	}
	return json.Number(formatDecimal(x, scale)), true
}

// formatDecimal writes x / 10^scale as ratString does, for an x without
// trailing zeros in its fraction.
func formatDecimal(x int64, scale int) string {
	var buf [24]byte
	b := buf[:0]
	if x < 0 {
		b = append(b, '-')
		x = -x
	}
	b = strconv.AppendInt(b, x/pow10[scale], 10)
	if scale > 0 {
		b = append(b, '.')
		for frac, p := x%pow10[scale], scale-1; p >= 0; p-- {
			b = append(b, byte('0'+frac/pow10[p]%10))
		}
	}
	return string(b)
}

// parseMicros reads a canonical amount (see ratString) as millionths.
func parseMicros(s string) (int64, bool) {
	x, scale, ok := parseDecimal(s)
	if !ok || scale > 6 || x > math.MaxInt64/pow10[6-scale] || x < -math.MaxInt64/pow10[6-scale] {
		return 0, false
	}
	return x * pow10[6-scale], true
}

// wholeMicros returns a threshold as millionths when it is a whole number
// small enough to compare exactly.
func wholeMicros(f float64) (int64, bool) {
	m, ok := wholeNumber(f, 1e12)
	return m * pow10[6], ok
}
