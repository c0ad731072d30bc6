package catalogfs

import _ "embed"

//go:embed lists.yaml
var lists []byte

// Lists returns the shipped list types (red and black lists).
func Lists() []byte { return lists }
