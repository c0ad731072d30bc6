package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pubcredit/internal/catalog"
	"pubcredit/internal/errs"
)

// The fast paths of normalise must agree with the slower code they stand in
// for: big.Rat for amounts, regular expressions for days and lists.

func TestQuickNumberAgreesWithBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	num := func() string {
		if r.IntN(8) == 0 {
			return []string{"0", "-0", "0.0", "-0.000", "007", "00.50", "1e3", "1,000", "+5", ".5", "5.", "-", "", "1/2", "0x10",
				"9223372036854775807", "999999999999999999", "1000000000000000000", "-999999999999999999.9", "0.0000001", "0.00000050",
				"12345678901234567890123456789012345678901"}[r.IntN(22)]
		}
		var b strings.Builder
		if r.IntN(4) == 0 {
			b.WriteByte('-')
		}
		for range 1 + r.IntN(14) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range 1 + r.IntN(9) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		return b.String()
	}
	bound := func() *float64 {
		if r.IntN(3) == 0 {
			return nil
		}
		f := []float64{0, 1, -1, 0.5, 100, 1e12, 1e13, -200000, 1e300}[r.IntN(9)]
		return &f
	}
	quick := 0
	for range 200000 {
		f := &catalog.Field{Name: "amount", Type: catalog.Decimal, Min: bound(), Max: bound(),
			NationalScale: []float64{0, 0, 10000, 1, 0.5, 1e9, 1e10, 100.25}[r.IntN(8)]}
		if r.IntN(4) == 0 {
			f.Type = catalog.Integer
		}
		s, national := num(), r.IntN(2) == 0
		got, ok := quickNumber(f, s, national)
		if !ok {
			continue
		}
		quick++
		var n normaliser
		want, wantOK := n.exactNumber("amount", f, s, national)
		if !wantOK || want != any(got) || len(n.p) > 0 {
			t.Fatalf("quickNumber(%+v, %q, %v) = %q; big.Rat: %v, %v, %v", f, s, national, got, want, wantOK, n.p)
		}
	}
	if quick < 20000 {
		t.Errorf("quickNumber decided only %d of 200000 numbers", quick)
	}
}

func TestCompareAmountAgreesWithBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		x := new(big.Rat).SetFrac64(r.Int64N(2e12)-1e12, []int64{1, 10, 1000, 1000000}[r.IntN(4)])
		amt := json.Number(ratString(x))
		th := []float64{0, 200, 200000, 200000.5, 1e12, 2e12, -5, float64(r.IntN(3e6)) / 10}[r.IntN(8)]
		if got, want := compareAmount(amt, th), x.Cmp(new(big.Rat).SetFloat64(th)); got != want {
			t.Fatalf("compareAmount(%s, %v) = %d, want %d", amt, th, got, want)
		}
	}
}

func TestISODayAgreesWithParseDay(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		s := fmt.Sprintf("%04d-%02d-%02d", r.IntN(10000), r.IntN(14), r.IntN(33))
		if r.IntN(10) == 0 {
			b := []byte(s)
			b[r.IntN(len(b))] = "0123456789-/ x"[r.IntN(14)]
			s = string(b)
		}
		d, ok := isoDay(s)
		want, err := parseLooseDay(s)
		if ok && (err != nil || d != want) {
			t.Fatalf("isoDay(%q) = %v, %v; parseDay: %v, %v", s, d, ok, want, err)
		}
		if got, gotErr := parseDay(s); got != want || fmt.Sprint(gotErr) != fmt.Sprint(err) {
			t.Fatalf("parseDay(%q) = %v, %v; want %v, %v", s, got, gotErr, want, err)
		}
	}
}

func TestEnumListSplitsAsTheRegexp(t *testing.T) {
	listSep := regexp.MustCompile(`[、，,;；|]`)
	f := &catalog.Field{Name: "types", Type: catalog.EnumList, Values: []catalog.Value{
		{Code: "fine", Name: catalog.Text{Zh: "罚款", En: "Fine"}},
		{Code: "warning", Name: catalog.Text{Zh: "警告", En: "Warning"}, Aliases: []string{"警 告"}},
	}}
	pieces := []string{"罚款", "警告", "fine", " Warning ", "警 告", "x", "", " ", "、", "，", ",", ";", "；", "|", "\xff", "，，"}
	r := rand.New(rand.NewPCG(9, 10))
	for range 50000 {
		var b strings.Builder
		for range r.IntN(7) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		var n, want normaliser
		got, ok := n.enumList("types", f, s)
		wantV, wantOK := want.enumList("types", f, listSep.Split(strings.TrimSpace(s), -1))
		if ok != wantOK || !reflect.DeepEqual(got, wantV) || !reflect.DeepEqual(n.p, want.p) {
			t.Fatalf("enumList(%q) = %v, %v, %v; split by the regexp: %v, %v, %v", s, got, ok, n.p, wantV, wantOK, want.p)
		}
	}
}

// TestPersonFirst: the person's problems come first, each group in its
// order, so that the cap on an error's problems never drops them.
func TestPersonFirst(t *testing.T) {
	var p errs.Problems
	for i := range 60 {
		p.Add(fmt.Sprintf("fields.f%02d", i), "unknown_field", "no such field")
	}
	p.Add("subject.id_number", "minor", "a minor")
	p.Add("decided_on", "future", "in the future")
	p.Add("subject", "disqualified", "disqualified")
	var e *errs.Error
	if !errors.As(PersonFirst(p).Err("the record is not valid"), &e) || len(e.Details) != 50 {
		t.Fatalf("%v, want an error with 50 details", e)
	}
	var got []string
	for _, d := range e.Details[:4] {
		got = append(got, d.Field)
	}
	if want := []string{"subject.id_number", "subject", "fields.f00", "fields.f01"}; !slices.Equal(got, want) {
		t.Errorf("the first details name %v, want %v", got, want)
	}
}
