package ledger

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"pubcredit/internal/errs"
)

func TestTilePathGolden(t *testing.T) {
	for _, tc := range []struct {
		path string
		tile TilePath
	}{
		{"tile/0/000", TilePath{Level: 0, Index: 0, Width: 256}},
		{"tile/0/001", TilePath{Level: 0, Index: 1, Width: 256}},
		{"tile/0/999", TilePath{Level: 0, Index: 999, Width: 256}},
		{"tile/0/x001/000", TilePath{Level: 0, Index: 1000, Width: 256}},
		{"tile/0/x001/x234/067", TilePath{Level: 0, Index: 1234067, Width: 256}},
		{"tile/0/x001/x234/067.p/8", TilePath{Level: 0, Index: 1234067, Width: 8}},
		{"tile/1/000.p/1", TilePath{Level: 1, Index: 0, Width: 1}},
		{"tile/2/x010/x000/000.p/255", TilePath{Level: 2, Index: 10000000, Width: 255}},
		{"tile/63/000", TilePath{Level: 63, Index: 0, Width: 256}},
		{"tile/entries/000.p/5", TilePath{Entries: true, Index: 0, Width: 5}},
		{"tile/entries/x001/x234/067", TilePath{Entries: true, Index: 1234067, Width: 256}},
		{"tile/0/x009/x223/x372/x036/x854/x775/807", TilePath{Index: 1<<63 - 1, Width: 256}},
	} {
		if got := tc.tile.String(); got != tc.path {
			t.Errorf("%+v.String() = %q, want %q", tc.tile, got, tc.path)
		}
		got, err := ParseTilePath(tc.path)
		if err != nil {
			t.Errorf("ParseTilePath(%q): %v", tc.path, err)
			continue
		}
		if got != tc.tile {
			t.Errorf("ParseTilePath(%q) = %+v, want %+v", tc.path, got, tc.tile)
		}
		// Hash tile paths are tlog's tile paths of height 8 without the height.
		if !tc.tile.Entries {
			tt := tlog.Tile{H: 8, L: tc.tile.Level, N: tc.tile.Index, W: tc.tile.Width}
			if want := "tile/8/" + strings.TrimPrefix(tc.path, "tile/"); tt.Path() != want {
				t.Errorf("tlog path %q, want %q", tt.Path(), want)
			}
		}
	}
}

func TestParseTilePathRejects(t *testing.T) {
	for _, p := range []string{
		"",
		"tile",
		"tile/",
		"tile/0",
		"tile/0/",
		"/tile/0/000",
		"tiles/0/000",
		"Tile/0/000",
		"tile/0/000/",
		"tile/0//000",
		"tile/8/0/000",       // tlog's form with a height
		"tile/data/000",      // tlog's record data tiles
		"tile/-1/000",        // negative level
		"tile/+1/000",        // signed level
		"tile/00/000",        // level with a leading zero
		"tile/01/000",        // level with a leading zero
		"tile/64/000",        // level above 63
		"tile/1000/000",      // level above 63
		"tile/a/000",         // non-numeric level
		"tile/Entries/000",   // wrong case
		"tile/0/0",           // index not in three digits
		"tile/0/00",          // index not in three digits
		"tile/0/0000",        // index not in three digits
		"tile/0/1234067",     // index not in groups
		"tile/0/x001",        // last group with an x
		"tile/0/001/234",     // first group without an x
		"tile/0/x000/001",    // leading zero group
		"tile/0/x000/x001/0", // leading zero group
		"tile/0/X001/000",    // upper-case X
		"tile/0/x1/000",      // short x group
		"tile/0/x0001/000",   // long x group
		"tile/0/+01",         // signed group
		"tile/0/-01",         // signed group
		"tile/0/ 01",         // space
		"tile/0/0x1",         // hex
		"tile/0/000.p",       // .p without a width
		"tile/0/000.p/",      // empty width
		"tile/0/000.p/0",     // width 0
		"tile/0/000.p/256",   // width 256 is a full tile, written without .p
		"tile/0/000.p/300",   // width above 256
		"tile/0/000.p/05",    // width with a leading zero
		"tile/0/000.p/+5",    // signed width
		"tile/0/000.p/5/",    // trailing slash
		"tile/0/000.p/5.p/5", // two widths
		"tile/0/000.P/5",     // upper-case P
		"tile/0/000p/5",      // missing dot
		"tile/0/000.q/5",     // wrong suffix
		"tile/0/x001.p/000",  // .p on an x group
		"tile/0/x009/x223/x372/x036/x854/x775/808",                 // index overflows int64
		"tile/0/x001/x000/x000/x000/x000/x000/x000/000",            // eight groups
		"tile/entries/x001/x234/067.p/8" + strings.Repeat("0", 20), // too long
	} {
		t.Run(p, func(t *testing.T) {
			tp, err := ParseTilePath(p)
			wantKind(t, err, errs.Malformed)
			if tp != (TilePath{}) {
				t.Errorf("ParseTilePath returned %+v with its error", tp)
			}
		})
	}
}

// tileReader serves tiles with HashTile, to check them with tlog's
// authenticating TileHashReader as an independent verifier would.
type tileReader struct {
	t     testing.TB
	size  int64
	store tlog.HashReader
}

func (r *tileReader) Height() int { return TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, tt := range tiles {
		tp, err := ParseTilePath(strings.Replace(tt.Path(), "tile/8/", "tile/", 1))
		if err != nil {
			r.t.Fatalf("tlog asked for %s: %v", tt.Path(), err)
		}
		data[i], err = HashTile(tp, r.size, r.store)
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestHashTile(t *testing.T) {
	// 70000 leaves: level 0 full tiles 0-272 and 273.p/112, level 1 full
	// tile 000 and 001.p/17, level 2 000.p/1.
	const size = 70000
	store, leaves := tlogStore(t, size)
	root := treeHash(t, size, store)
	tiles := tlog.NewTiles(TileHeight, 0, size)
	if len(tiles) != 273+1+2+1 {
		t.Fatalf("tlog.NewTiles: %d tiles", len(tiles))
	}
	for _, tt := range tiles {
		tp := TilePath{Level: tt.L, Index: tt.N, Width: tt.W}
		got, err := HashTile(tp, size, store)
		if err != nil {
			t.Fatalf("HashTile(%s): %v", tp, err)
		}
		want, err := tlog.ReadTileData(tt, store)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("HashTile(%s) differs from tlog.ReadTileData", tp)
		}
		// A narrower partial tile of the same coordinates is a prefix.
		if tt.W > 1 {
			narrow := tp
			narrow.Width = tt.W - 1
			got, err := HashTile(narrow, size, store)
			if err != nil {
				t.Fatalf("HashTile(%s): %v", narrow, err)
			}
			if !bytes.Equal(got, want[:len(want)-tlog.HashSize]) {
				t.Fatalf("HashTile(%s) is not a prefix of %s", narrow, tp)
			}
		}
	}

	// tlog's tile-based reader authenticates the served tiles against the
	// root and proves leaves from them.
	r := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, &tileReader{t: t, size: size, store: store})
	for _, n := range []int64{0, 255, 256, 65535, 65536, 69999} {
		p, err := tlog.ProveRecord(size, n, r)
		if err != nil {
			t.Fatalf("ProveRecord(%d) over tiles: %v", n, err)
		}
		if err := tlog.CheckRecord(p, size, root, n, leaves[n]); err != nil {
			t.Fatalf("leaf %d: %v", n, err)
		}
	}
	if h, err := tlog.TreeHash(size, r); err != nil || h != root {
		t.Fatalf("TreeHash over tiles = %v, %v", h, err)
	}
}

func TestHashTileRejects(t *testing.T) {
	const size = 70000
	store, _ := tlogStore(t, size)
	for _, tc := range []struct {
		name string
		tile TilePath
		size int64
		kind errs.Kind
	}{
		{"rejects a full tile beyond the tree", TilePath{Level: 0, Index: 273, Width: 256}, size, errs.NotFound},
		{"rejects a partial tile wider than the tree's", TilePath{Level: 0, Index: 273, Width: 113}, size, errs.NotFound},
		{"rejects a tile after the last", TilePath{Level: 0, Index: 274, Width: 1}, size, errs.NotFound},
		{"rejects a level-1 tile beyond the tree", TilePath{Level: 1, Index: 1, Width: 256}, size, errs.NotFound},
		{"rejects a level-1 partial tile too wide", TilePath{Level: 1, Index: 1, Width: 18}, size, errs.NotFound},
		{"rejects a level-3 tile of a small tree", TilePath{Level: 3, Index: 0, Width: 1}, size, errs.NotFound},
		{"rejects a level-63 tile", TilePath{Level: 63, Index: 0, Width: 1}, size, errs.NotFound},
		{"rejects any tile of the empty tree", TilePath{Level: 0, Index: 0, Width: 1}, 0, errs.NotFound},
		{"rejects a huge index without overflow", TilePath{Level: 0, Index: 1<<63 - 1, Width: 256}, size, errs.NotFound},
		{"rejects an entry bundle", TilePath{Entries: true, Index: 0, Width: 256}, size, errs.Malformed},
		{"rejects width 0", TilePath{Level: 0, Index: 0, Width: 0}, size, errs.Malformed},
		{"rejects width 257", TilePath{Level: 0, Index: 0, Width: 257}, size, errs.Malformed},
		{"rejects a negative index", TilePath{Level: 0, Index: -1, Width: 256}, size, errs.Malformed},
		{"rejects level 64", TilePath{Level: 64, Index: 0, Width: 256}, size, errs.Malformed},
		{"rejects a negative level", TilePath{Level: -1, Index: 0, Width: 256}, size, errs.Malformed},
		{"rejects a negative size", TilePath{Level: 0, Index: 0, Width: 1}, -1, errs.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := HashTile(tc.tile, tc.size, store)
			wantKind(t, err, tc.kind)
			if data != nil {
				t.Error("HashTile returned data with its error")
			}
		})
	}
	_, err := HashTile(TilePath{Width: 256}, size, &countingReader{r: store, err: errs.E(errs.Unavailable, "store down")})
	wantKind(t, err, errs.Unavailable)
}

func TestTilePathCheckSizeEntries(t *testing.T) {
	for _, tc := range []struct {
		tile TilePath
		size int64
		ok   bool
	}{
		{TilePath{Entries: true, Index: 0, Width: 5}, 5, true},
		{TilePath{Entries: true, Index: 0, Width: 5}, 4, false},
		{TilePath{Entries: true, Index: 0, Width: 256}, 256, true},
		{TilePath{Entries: true, Index: 1, Width: 1}, 256, false},
		{TilePath{Entries: true, Index: 1, Width: 1}, 257, true},
	} {
		err := tc.tile.CheckSize(tc.size)
		if tc.ok && err != nil {
			t.Errorf("%s in size %d: %v", tc.tile, tc.size, err)
		}
		if !tc.ok {
			wantKind(t, err, errs.NotFound)
		}
	}
	wantKind(t, TilePath{Entries: true, Level: 1, Width: 1}.CheckSize(10), errs.Malformed)
}

func TestEntryBundle(t *testing.T) {
	for _, leaves := range [][][]byte{
		{[]byte(goldenLeafText)},
		{{}, []byte("a"), bytes.Repeat([]byte("b"), 65535)},
		func() [][]byte {
			l := make([][]byte, TileWidth)
			for i := range l {
				l[i] = fmt.Appendf(nil, "leaf %d", i)
			}
			return l
		}(),
	} {
		b := EntryBundle(leaves)
		got, err := ParseEntryBundle(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(leaves) {
			t.Fatalf("%d entries, want %d", len(got), len(leaves))
		}
		for i := range got {
			if !bytes.Equal(got[i], leaves[i]) {
				t.Fatalf("entry %d = %q, want %q", i, got[i], leaves[i])
			}
		}
	}
	if got, want := EntryBundle([][]byte{[]byte("ab"), []byte("c")}), []byte("\x00\x02ab\x00\x01c"); !bytes.Equal(got, want) {
		t.Errorf("EntryBundle = %q, want %q", got, want)
	}
}

func TestParseEntryBundleRejects(t *testing.T) {
	full := EntryBundle(make([][]byte, TileWidth))
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"rejects an empty bundle", nil},
		{"rejects a truncated length", []byte{0}},
		{"rejects a truncated entry", []byte{0, 3, 'a', 'b'}},
		{"rejects a truncated second entry", []byte{0, 1, 'a', 0}},
		{"rejects more than 256 entries", append(full, 0, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEntryBundle(tc.in)
			wantKind(t, err, errs.Invalid)
		})
	}
}

func TestEntryBundlePanics(t *testing.T) {
	for name, leaves := range map[string][][]byte{
		"257 entries":        make([][]byte, TileWidth+1),
		"a 65536-byte entry": {make([]byte, 65536)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("EntryBundle with %s did not panic", name)
				}
			}()
			EntryBundle(leaves)
		}()
	}
}
