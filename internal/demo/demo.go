// Package demo makes realistic synthetic people, departments and records for
// trying the platform and for benchmarks: identity numbers that pass every
// check with real region codes of Tianjin and other cities, plausible
// Chinese names, and records across the catalog. Everything is derived from
// a seed, so a demo store or benchmark file can be made again identically.
package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"pubcredit/internal/clock"
	"pubcredit/internal/record"
)

// Regions are real GB/T 2260 county-level codes, mostly Tianjin's districts.
var Regions = []string{
	"120101", "120102", "120103", "120104", "120105", "120106", "120110", "120111", "120112", "120113",
	"120114", "120115", "120116", "120117", "120118", "120119", "110101", "110105", "110108", "130102",
	"130203", "310101", "310115", "320102", "330106", "370102", "410105", "420102", "440106", "440305",
}

var surnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "欧阳", "司马", "诸葛"}

var given = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "晓东", "海燕", "文", "欣怡", "子涵", "浩然", "雨桐", "思远", "嘉怡", "宇轩", "一诺"}

// Person is a synthetic person.
type Person struct {
	IDNumber string
	Name     string
	Birth    clock.Date
}

// Dept is a synthetic department with its rights.
type Dept struct {
	Code, Name, USCC string
	Submit, Read     []string
	Lists, Matters   []string
}

// Depts are the demo departments of a city.
var Depts = []Dept{
	{"TJ-SCJG", "天津市市场监督管理委员会", "11120000MB1A00001A", []string{"XZCF", "XZXK", "ZSCQCF"}, []string{"XZCF", "XZXK", "SXBZXR", "QSXX", "ZSCQCF", "RYBZ"},
		[]string{"SCJG_YZWF"}, []string{"admin_licensing"}},
	{"TJ-SW", "国家税务总局天津市税务局", "11120000MB1A00002A", []string{"QSXX", "XZCF"}, []string{"QSXX", "XZCF", "SXBZXR"},
		[]string{"SW_ZDSS"}, []string{"subsidy"}},
	{"TJ-FY", "天津市高级人民法院", "11120000MB1A00003A", []string{"SXBZXR", "XGXF"}, []string{"SXBZXR", "XGXF"},
		[]string{"SXBZXR"}, nil},
	{"TJ-RS", "天津市人力资源和社会保障局", "11120000MB1A00004A", []string{"SBQF", "ZYZG"}, []string{"SBQF", "ZYZG", "XZCF", "SXBZXR"},
		nil, []string{"civil_service_recruitment", "subsidy"}},
	{"TJ-TW", "共青团天津市委员会", "11120000MB1A00005A", []string{"ZYFW", "RYBZ"}, []string{"ZYFW", "RYBZ"},
		[]string{"YXZYZ", "SXQN"}, []string{"honours"}},
	{"TJ-GA", "天津市公安局", "11120000MB1A00006A", []string{"XZCF"}, []string{"XZCF", "SXBZXR"},
		[]string{"FFJZ_DXZP"}, nil},
	{"TJ-JT", "天津市交通运输委员会", "11120000MB1A00007A", nil, []string{"SXBZXR"},
		nil, []string{"high_consumption", "government_procurement", "bidding"}},
}

// Generator makes people and records from a seed.
type Generator struct {
	r     *rand.Rand
	Today clock.Date
	seq   int
}

// New returns a generator for the seed; records are decided before today.
func New(seed uint64, today clock.Date) *Generator {
	// Decision numbers of different seeds do not meet: a file made with
	// another seed than the demo store's can be submitted to it whole.
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Today: today, seq: int((seed+999)%1000) * 1_000_000}
}

// Person returns a new synthetic person born between 1950 and 18 years ago.
func (g *Generator) Person() Person {
	region := Regions[g.r.IntN(len(Regions))]
	birth := clock.Date{Year: 1950, Month: 1, Day: 1}.AddDays(g.r.IntN(365 * (g.Today.Year - 18 - 1950)))
	seq := g.r.IntN(1000)
	body := fmt.Sprintf("%s%04d%02d%02d%03d", region, birth.Year, birth.Month, birth.Day, seq)
	name := surnames[g.r.IntN(len(surnames))] + given[g.r.IntN(len(given))]
	if g.r.IntN(2) == 0 {
		name += given[g.r.IntN(len(given))]
	}
	return Person{IDNumber: body + CheckChar(body), Name: name, Birth: birth}
}

// CheckChar is the ISO 7064 MOD 11-2 check character of 17 digits.
func CheckChar(body string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(body[i]-'0') * weights[i]
	}
	return string("10X98765432"[sum%11])
}

var (
	violations = []string{"未按规定办理登记", "违反道路交通安全法规", "无证经营", "销售不合格商品", "虚假宣传", "违规排放污水", "扰乱公共秩序"}
	authority  = []string{"天津市市场监督管理委员会", "天津市和平区市场监督管理局", "天津市公安局交通警察总队", "天津市生态环境局"}
)

// Penalty returns an administrative penalty (XZCF) submission for p, using
// the national double-publicity field codes as a department's export would.
func (g *Generator) Penalty(p Person) record.Submission {
	g.seq++
	decided := g.Today.AddDays(-g.r.IntN(3*365) - 1)
	types, fine := "罚款", g.r.IntN(50000)+201
	switch g.r.IntN(10) {
	case 0:
		types, fine = "警告", 0
	case 1:
		types = "罚款、没收违法所得"
	case 2:
		types, fine = "罚款、吊销许可证件", 200000+g.r.IntN(100000)
	}
	f := map[string]any{
		"CF_WSH":    fmt.Sprintf("津市监罚〔%d〕%06d号", decided.Year, g.seq),
		"CF_WFXW":   violations[g.r.IntN(len(violations))],
		"CF_SY":     "当事人存在违法行为，经调查属实。",
		"CF_YJ":     "《中华人民共和国行政处罚法》第九条",
		"CF_CFLB":   types,
		"CF_NR":     "依法给予行政处罚。",
		"CF_CFJG":   authority[g.r.IntN(len(authority))],
		"CF_CFJGDM": "11120000MB1A00001A",
		"CF_SJLY":   "天津市市场监督管理委员会",
		"CF_SJLYDM": "11120000MB1A00001A",
	}
	if fine > 0 {
		f["CF_NR_FK"] = json.Number(strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", float64(fine)/10000), "0"), "."))
	}
	return record.Submission{
		Item:      "XZCF",
		Subject:   record.Subject{IDType: "resident_id", IDNumber: p.IDNumber, Name: p.Name},
		DecidedOn: decided.String(),
		Fields:    f,
	}
}

// Volunteer returns a volunteer service (ZYFW) submission.
func (g *Generator) Volunteer(p Person) record.Submission {
	g.seq++
	decided := g.Today.AddDays(-g.r.IntN(2*365) - 1)
	return record.Submission{
		Ref: fmt.Sprintf("ZYFW-%d-%07d", decided.Year, g.seq), Item: "ZYFW",
		Subject:   record.Subject{IDNumber: p.IDNumber, Name: p.Name},
		DecidedOn: decided.String(),
		Fields: map[string]any{
			"decision_no":   fmt.Sprintf("津志愿〔%d〕%07d号", decided.Year, g.seq),
			"organisation":  "天津市志愿服务联合会",
			"project":       []string{"社区关爱", "文明交通", "环境保护", "助老助残"}[g.r.IntN(4)],
			"service_hours": json.Number(fmt.Sprint(10 + g.r.IntN(300))),
		},
	}
}

// ForDept returns a plausible submission by department d about p, or false
// when d submits nothing the generator knows how to make.
func (g *Generator) ForDept(d Dept, p Person) (record.Submission, bool) {
	for _, it := range d.Submit {
		switch it {
		case "XZCF":
			return g.Penalty(p), true
		case "ZYFW":
			return g.Volunteer(p), true
		}
	}
	return record.Submission{}, false
}

// WriteNDJSON writes people*perPerson administrative penalties as a
// department's national double-publicity export: one flat JSON object per
// line with the CF_* column codes.
func (g *Generator) WriteNDJSON(w io.Writer, people, perPerson int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for range people {
		p := g.Person()
		for range perPerson {
			s := g.Penalty(p)
			row := map[string]any{"CF_XDR_MC": p.Name, "CF_XDR_LB": "自然人", "CF_XDR_ZJLX": "身份证", "CF_XDR_ZJHM": p.IDNumber, "CF_JDRQ": s.DecidedOn}
			for k, v := range s.Fields {
				row[k] = v
			}
			if err := enc.Encode(row); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
