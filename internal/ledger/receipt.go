package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"pubcredit/internal/errs"
)

// ReceiptVersion is the Format of every receipt.
const ReceiptVersion = "pubcredit-receipt/v1"

// MaxReceiptSize bounds the JSON ParseReceipt accepts.
const MaxReceiptSize = 64 << 10

// A Receipt is what a record holder keeps to prove offline, with only the
// log's verifier key, that a leaf is in the log: the leaf, its index, a
// signed checkpoint and the inclusion proof of the leaf in the checkpoint's
// tree.
type Receipt struct {
	Format     string         `json:"format"`           // ReceiptVersion
	Leaf       string         `json:"leaf"`             // the leaf bytes (Leaf.Encode), as text
	Index      int64          `json:"index"`            // the leaf's index in the log
	Inputs     map[string]any `json:"inputs,omitempty"` // salt-free commitment inputs the holder may see; kind, event_id and at are checked against the leaf
	Checkpoint string         `json:"checkpoint"`       // signed note text of a checkpoint
	Proof      InclusionProof `json:"proof"`            // inclusion of the leaf in the checkpoint's tree
}

// VerifyReceipt checks r against the log's note verifier key vkey: the
// format is ReceiptVersion, the leaf parses, the checkpoint is signed under
// vkey, the proof is for r.Index in the checkpoint's tree and for the leaf's
// hash, the proof verifies against the checkpoint's root, and the inputs
// that name what the leaf carries in clear (kind, event_id, at) agree with
// it. It returns the parsed leaf and checkpoint. Errors are errs.Invalid.
// The other inputs cannot be checked without the salt.
func VerifyReceipt(r Receipt, vkey string) (Leaf, Checkpoint, error) {
	if r.Format != ReceiptVersion {
		return Leaf{}, Checkpoint{}, errs.E(errs.Invalid, "ledger: receipt format is %q, want %q", short(r.Format), ReceiptVersion)
	}
	leaf, err := ParseLeaf([]byte(r.Leaf))
	if err != nil {
		return Leaf{}, Checkpoint{}, err
	}
	c, err := OpenCheckpoint([]byte(r.Checkpoint), vkey)
	if err != nil {
		return Leaf{}, Checkpoint{}, err
	}
	if r.Proof.Index != r.Index {
		return Leaf{}, Checkpoint{}, errs.E(errs.Invalid, "ledger: receipt proof is for index %d, not the receipt's index %d: one of the two was changed", r.Proof.Index, r.Index)
	}
	if r.Proof.Size != c.Size {
		return Leaf{}, Checkpoint{}, errs.E(errs.Invalid, "ledger: receipt proof is for a tree of size %d, not the signed checkpoint's %d: the proof does not belong to this checkpoint", r.Proof.Size, c.Size)
	}
	if r.Proof.LeafHash != hashString(leaf.Hash()) {
		return Leaf{}, Checkpoint{}, errs.E(errs.Invalid, "ledger: receipt leaf hashes to %s, but its proof is for leaf hash %q: the leaf or the proof's leaf_hash was changed", hashString(leaf.Hash()), short(r.Proof.LeafHash))
	}
	if err := r.Proof.Check(c.Root); err != nil {
		return Leaf{}, Checkpoint{}, err
	}
	if err := checkInputs(r.Inputs, leaf); err != nil {
		return Leaf{}, Checkpoint{}, err
	}
	return leaf, c, nil
}

// checkInputs checks the receipt inputs that name the leaf's kind, event id
// and time against the leaf.
func checkInputs(in map[string]any, l Leaf) error {
	for _, f := range []struct{ key, want string }{{"kind", l.Kind}, {"event_id", l.ID}} {
		if v, ok := in[f.key]; ok && v != f.want {
			return errs.E(errs.Invalid, "ledger: receipt inputs give %s %q, the leaf %q", f.key, short(fmt.Sprint(v)), f.want)
		}
	}
	// A record version's event id is "record_id:version".
	if rid, ok := in["record_id"]; ok {
		if id, ver, _ := strings.Cut(l.ID, ":"); id != fmt.Sprint(rid) {
			return errs.E(errs.Invalid, "ledger: receipt inputs give record_id %q, the leaf commits to %q", short(fmt.Sprint(rid)), id)
		} else if v, ok := in["version"]; ok && fmt.Sprint(v) != ver {
			return errs.E(errs.Invalid, "ledger: receipt inputs give version %s, the leaf commits to version %s", short(fmt.Sprint(v)), ver)
		}
	}
	if v, ok := in["at"]; ok {
		s, _ := v.(string)
		if at, err := time.Parse(time.RFC3339Nano, s); err != nil || !at.Equal(l.At) {
			return errs.E(errs.Invalid, "ledger: receipt inputs give at %q, the leaf %s", short(fmt.Sprint(v)), l.At.Format(time.RFC3339Nano))
		}
	}
	return nil
}

// ParseReceipt decodes a receipt from JSON. It is strict: at most
// MaxReceiptSize bytes, one JSON object, every key of the receipt and its
// proof present (only "inputs" may be left out) exactly once and exactly
// cased, no unknown key, nothing after the object. It does not verify the receipt; see VerifyReceipt.
// Errors are errs.Invalid.
func ParseReceipt(b []byte) (Receipt, error) {
	if len(b) > MaxReceiptSize {
		return Receipt{}, errs.E(errs.Invalid, "ledger: receipt is %d bytes, more than %d", len(b), MaxReceiptSize)
	}
	// encoding/json matches keys case-insensitively and lets a repeated key
	// win silently; check the keys of the two structs exactly first.
	values, err := checkKeys(b, "receipt", []string{"format", "leaf", "index", "inputs", "checkpoint", "proof"}, "inputs")
	if err != nil {
		return Receipt{}, err
	}
	if _, err := checkKeys(values["proof"], "receipt proof", []string{"index", "size", "leaf_hash", "hashes"}, ""); err != nil {
		return Receipt{}, err
	}
	var r Receipt
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return Receipt{}, errs.Wrap(errs.Invalid, err, "ledger: malformed receipt: %s", jsonProblem(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return Receipt{}, errs.E(errs.Invalid, "ledger: malformed receipt: data after the object")
	}
	return r, nil
}

// checkKeys checks that b is one JSON object whose keys are all in keys,
// each exactly once except optional, which may be absent. It returns the
// values by key so that a nested object can be checked in turn.
func checkKeys(b []byte, what string, keys []string, optional string) (map[string]json.RawMessage, error) {
	malformed := func(err error) error {
		return errs.Wrap(errs.Invalid, err, "ledger: malformed %s: %s", what, jsonProblem(err))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil {
		return nil, malformed(err)
	} else if t != json.Delim('{') {
		return nil, errs.E(errs.Invalid, "ledger: malformed %s: not a JSON object", what)
	}
	values := make(map[string]json.RawMessage, len(keys))
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, malformed(err)
		}
		key, _ := t.(string) // object keys are always strings
		if !slices.Contains(keys, key) {
			return nil, errs.E(errs.Invalid, "ledger: malformed %s: unknown key %q", what, short(key))
		}
		if _, ok := values[key]; ok {
			return nil, errs.E(errs.Invalid, "ledger: malformed %s: repeated key %q", what, key)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, malformed(err)
		}
		values[key] = v
	}
	if _, err := d.Token(); err != nil { // the closing '}'
		return nil, malformed(err)
	}
	for _, k := range keys {
		if _, ok := values[k]; !ok && k != optional {
			return nil, errs.E(errs.Invalid, "ledger: malformed %s: missing key %q", what, k)
		}
	}
	return values, nil
}

// jsonProblem says what is wrong with JSON that did not decode: where, or
// which field and what kind of JSON value it holds.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "no JSON: the input is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early (cut short?)"
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the value"
		}
		return fmt.Sprintf("%s is a JSON %s, want %s", field, short(typ.Value), jsonType(typ.Type))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonType names the JSON a Go type decodes from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.String:
			return "an array of strings"
		case reflect.Struct, reflect.Map:
			return "an array of objects"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
