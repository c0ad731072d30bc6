// Package catalogfs holds the shipped default catalog files. They are part of
// the published catalog and are reviewed like code: a change to an item is a
// change to what may be collected, disclosed and displayed about a person.
package catalogfs

import (
	"embed"
	"io/fs"
)

// FS holds the shipped default catalog files; items live under items/, one
// file per item, named by its code.
//
//go:embed items/*.yaml
var FS embed.FS

// Items returns the item files, for catalog.Load.
func Items() fs.FS {
	sub, err := fs.Sub(FS, "items")
	if err != nil {
		panic(err) // "items" is a valid path, so fs.Sub cannot fail
	}
	return sub
}
