package catalogfs

import (
	"embed"
	"io/fs"
)

// calendarFS holds the shipped working-day calendars, one file per year under
// calendar/, named YYYY.yaml.
//
//go:embed calendar/*.yaml
var calendarFS embed.FS

// Calendars returns the working-day calendar files, for clock.LoadCalendars.
func Calendars() fs.FS {
	sub, err := fs.Sub(calendarFS, "calendar")
	if err != nil {
		panic(err) // "calendar" is a valid path, so fs.Sub cannot fail
	}
	return sub
}
