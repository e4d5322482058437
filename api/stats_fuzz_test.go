package api

import (
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
)

// FuzzStatsQuery reads any query string as the statistics do: a clear
// error naming a parameter, or a query whose plan covers its period with
// ordered bounds and buckets in range.
func FuzzStatsQuery(f *testing.F) {
	for _, seed := range []string{
		"from=2026-10-19&to=2026-10-25&group_by=hour",
		"from=2026-03-29T00:00:00%2B01:00&to=1775000000&time_zone=Asia/Kolkata&group_by=week",
		"time_from=22:00&time_to=03:00&number_id=1,2&number_id=3&tag_id=4",
		"time_from=24:00&time_to=24:00",
		"time_zone=../../etc/passwd",
		"from=9999-99-99",
		"user_id=-1",
		"group_by=month&from=2024-01-01&to=2026-12-31&time_zone=America/Santiago",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, query string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/v1/stats", nil)
		c.Request.URL.RawQuery = query
		q, err := readStatsQuery(c, "Europe/Paris", now)
		var field *dialplan.FieldError
		if err != nil {
			if !errors.As(err, &field) || field.Field == "" {
				t.Fatalf("%q: an error that names no parameter: %v", query, err)
			}
			return
		}
		p, err := q.Plan()
		if err != nil {
			if !errors.As(err, &field) {
				t.Fatalf("%q: a plan error that names no parameter: %v", query, err)
			}
			return
		}
		if !p.Bounds[0].Equal(q.From) || !p.Bounds[len(p.Bounds)-1].Equal(q.To) {
			t.Fatalf("%q: the bounds do not span the period", query)
		}
		if !slices.IsSortedFunc(p.Bounds, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Fatalf("%q: bounds out of order", query)
		}
		for _, g := range p.Groups {
			if g < 0 || int(g) > len(p.Buckets) {
				t.Fatalf("%q: bucket %d of %d", query, g, len(p.Buckets))
			}
		}
	})
}
