package catalogfs

import (
	"bytes"
	_ "embed"
)

//go:embed measures.yaml
var measures []byte

// Measures returns the shipped measures file (the published joint rewards and
// punishments), for measure.Load. The caller gets its own copy.
func Measures() []byte { return bytes.Clone(measures) }
