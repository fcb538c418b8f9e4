package lock

import (
	"fmt"
	"time"
)

// timeFormat is how the lock writes dates: RFC 3339 in UTC.
const timeFormat = time.RFC3339

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q: %w", s, err)
	}
	return t, nil
}
