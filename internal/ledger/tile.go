package ledger

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

// TileHeight is the height of tiles in C2SP tlog-tiles; a full tile holds
// TileWidth hashes or entries.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
)

const (
	maxTileLevel   = 63
	maxTilePathLen = 64 // "tile/entries/x009/x223/x372/x036/x854/x775/807.p/255" is 52
	maxEntrySize   = 1<<16 - 1
)

// A TilePath is the coordinate of a C2SP tlog-tiles resource: a hash tile
// "tile/<L>/<N>[.p/<W>]" or an entry bundle "tile/entries/<N>[.p/<W>]".
//
// A hash tile at level L and index N holds the W hashes at tree level 8L
// from index 256N on. An entry bundle at index N holds the W leaves from
// index 256N on. Width 256 (TileWidth) is a full tile and has no ".p/<W>".
type TilePath struct {
	Level   int   // 0-63; 0 for an entry bundle
	Index   int64 // N, >= 0
	Width   int   // W, 1-256
	Entries bool  // an entry bundle rather than a hash tile
}

// ParseTilePath parses a tile path. It is strict, following tlog-tiles: L is
// 0-63 in decimal without leading zeros (or "entries"); N is written in
// groups of three digits, all but the last prefixed by "x", with no leading
// "x000" group, and fits in an int64; W is 1-255 in decimal without leading
// zeros. For every accepted p, ParseTilePath(p).String() equals p.
// Errors are errs.Malformed, with the reason as a detail on the field
// "path": a tile path comes from a request, and the messages are for its
// sender.
func ParseTilePath(p string) (TilePath, error) {
	bad := func(reason string) (TilePath, error) {
		return TilePath{}, errs.FieldsOf(errs.Malformed, fmt.Sprintf("not a tile path: %q: %s", short(p), reason),
			errs.FieldError{Field: "path", Code: "format", Message: reason})
	}
	if len(p) > maxTilePathLen {
		return bad("too long")
	}
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return bad(`does not start with "tile/"`)
	}
	f := strings.Split(rest, "/")
	if len(f) < 2 {
		return bad("no index")
	}
	var t TilePath
	if f[0] == "entries" {
		t.Entries = true
	} else {
		l, ok := parseSmall(f[0], 0, maxTileLevel)
		if !ok {
			return bad("level is not 0-63 without leading zeros")
		}
		t.Level = l
	}
	f = f[1:]
	t.Width = TileWidth
	if last := len(f) - 1; last >= 1 && strings.HasSuffix(f[last-1], ".p") {
		w, ok := parseSmall(f[last], 1, TileWidth-1)
		if !ok {
			return bad("partial width is not 1-255 without leading zeros")
		}
		t.Width = w
		f[last-1] = strings.TrimSuffix(f[last-1], ".p")
		f = f[:last]
	}
	if len(f) > 7 {
		return bad("index has more than 7 groups")
	}
	for i, g := range f {
		if i < len(f)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad(`index group is not "x" and three digits`)
			}
			if i == 0 && g == "000" {
				return bad("index has a leading zero group")
			}
		}
		if len(g) != 3 || !isDigits(g) {
			return bad("index group is not three digits")
		}
		d := int64(g[0]-'0')*100 + int64(g[1]-'0')*10 + int64(g[2]-'0')
		if t.Index > (1<<63-1-d)/1000 {
			return bad("index overflows")
		}
		t.Index = t.Index*1000 + d
	}
	if t.String() != p {
		return bad("not canonical") // unreachable if the checks above are complete
	}
	return t, nil
}

// String returns the tile path. The path of a TilePath that ParseTilePath
// would not return is unspecified.
func (t TilePath) String() string {
	b := make([]byte, 0, maxTilePathLen)
	b = append(b, "tile/"...)
	if t.Entries {
		b = append(b, "entries"...)
	} else {
		b = strconv.AppendInt(b, int64(t.Level), 10)
	}
	b = append(b, '/')
	var groups [7]uint64
	n, k := uint64(t.Index), 0
	for {
		groups[k] = n % 1000
		k++
		n /= 1000
		if n == 0 || k == len(groups) {
			break
		}
	}
	for i := k - 1; i >= 0; i-- {
		if i > 0 {
			b = append(b, 'x')
		}
		g := groups[i]
		b = append(b, byte('0'+g/100), byte('0'+g/10%10), byte('0'+g%10))
		if i > 0 {
			b = append(b, '/')
		}
	}
	if t.Width != TileWidth {
		b = append(b, ".p/"...)
		b = strconv.AppendInt(b, int64(t.Width), 10)
	}
	return string(b)
}

// CheckSize reports whether the tile exists in a tree of size leaves: for a
// hash tile, whether the tree has at least 256*Index+Width hashes at level
// 8*Level; for an entry bundle, at least 256*Index+Width leaves. A partial
// tile narrower than the tree's is fine: its data is a prefix of the wider
// one. It returns errs.Malformed for an invalid TilePath or size and
// errs.NotFound for a tile beyond the tree.
func (t TilePath) CheckSize(size int64) error {
	if t.Level < 0 || t.Level > maxTileLevel || t.Entries && t.Level != 0 || t.Index < 0 || t.Width < 1 || t.Width > TileWidth {
		return errs.E(errs.Malformed, "invalid tile %+v", t)
	}
	if size < 0 || size > MaxSize {
		return errs.E(errs.Malformed, "tree size %d is outside [0, %d]", size, MaxSize)
	}
	have := size >> uint(TileHeight*t.Level) // hashes at level 8L; 0 once the shift reaches 64
	if have < int64(t.Width) || t.Index > (have-int64(t.Width))/TileWidth {
		return errs.E(errs.NotFound, "%s is beyond the tree of size %d", t, size)
	}
	return nil
}

// HashTile returns the data of hash tile t, its Width hashes concatenated,
// for the tree of size leaves, reading stored hashes from r with
// tlog.ReadTileData. It returns errs.Malformed for an entry bundle, an
// invalid tile or size, errs.NotFound for a tile beyond the tree (see
// CheckSize), and errors from r wrapped.
func HashTile(t TilePath, size int64, r tlog.HashReader) ([]byte, error) {
	if t.Entries {
		return nil, errs.E(errs.Malformed, "%s is an entry bundle, not a hash tile", t)
	}
	if err := t.CheckSize(size); err != nil {
		return nil, err
	}
	data, err := tlog.ReadTileData(tlog.Tile{H: TileHeight, L: t.Level, N: t.Index, W: t.Width}, r)
	if err != nil {
		return nil, fmt.Errorf("ledger: reading %s: %w", t, err)
	}
	return data, nil
}

// EntryBundle encodes leaves as a C2SP tlog-tiles entry bundle: each entry
// as a big-endian uint16 length followed by its bytes. A bundle holds at most
// TileWidth entries of at most 65535 bytes each; EntryBundle panics
// otherwise, as that is a programming error.
func EntryBundle(leaves [][]byte) []byte {
	if len(leaves) > TileWidth {
		panic(fmt.Sprintf("ledger: EntryBundle: %d entries, more than %d", len(leaves), TileWidth))
	}
	n := 0
	for _, l := range leaves {
		if len(l) > maxEntrySize {
			panic(fmt.Sprintf("ledger: EntryBundle: entry of %d bytes, more than %d", len(l), maxEntrySize))
		}
		n += 2 + len(l)
	}
	b := make([]byte, 0, n)
	for _, l := range leaves {
		b = binary.BigEndian.AppendUint16(b, uint16(len(l)))
		b = append(b, l...)
	}
	return b
}

// ParseEntryBundle decodes an entry bundle. It is strict: 1 to TileWidth
// entries, each complete, nothing left over. The entries alias b.
// Errors are errs.Invalid.
func ParseEntryBundle(b []byte) ([][]byte, error) {
	if len(b) == 0 {
		return nil, errs.E(errs.Invalid, "ledger: empty entry bundle")
	}
	var entries [][]byte
	for off := 0; off < len(b); {
		if len(entries) == TileWidth {
			return nil, errs.E(errs.Invalid, "ledger: entry bundle has more than %d entries", TileWidth)
		}
		if len(b)-off < 2 {
			return nil, errs.E(errs.Invalid, "ledger: entry bundle entry %d: truncated length", len(entries))
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		if len(b)-off < n {
			return nil, errs.E(errs.Invalid, "ledger: entry bundle entry %d: %d bytes, only %d left", len(entries), n, len(b)-off)
		}
		entries = append(entries, b[off:off+n:off+n])
		off += n
	}
	return entries, nil
}

// parseSmall parses a decimal number in [lo, hi] without sign or leading zeros.
func parseSmall(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 3 || s[0] == '0' && len(s) > 1 || !isDigits(s) {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, lo <= n && n <= hi
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
