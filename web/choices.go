package web

import (
	"net/http"
	"strconv"

	"github.com/switchboard/switchboard/store"
)

// selectOption is an entry of a select: its value, what it says, and
// whether it is chosen.
type selectOption struct {
	Value, Label string
	Selected     bool
}

// choices are the filters' selects of the company's numbers, users, teams
// and tags.
type choices struct {
	Numbers, Users, Teams, Tags []selectOption
}

// choices reads the names the filters offer. The one read of the
// dashboard that is not the API's: names only, for the roles that may
// list them all through the API (readsConfig), in one query.
func (s *server) choices(r *http.Request) (choices, error) {
	v := visitOf(r)
	if !readsConfig(v.sess.Principal) {
		return choices{}, nil
	}
	got, err := s.Store.Choices(r.Context(), v.sess.Company)
	if err != nil {
		return choices{}, err
	}
	options := func(list []store.Choice) []selectOption {
		out := make([]selectOption, len(list))
		for i, c := range list {
			out[i] = selectOption{Value: strconv.FormatInt(c.ID, 10), Label: c.Name}
		}
		return out
	}
	return choices{Numbers: options(got.Numbers), Users: options(got.Users), Teams: options(got.Teams), Tags: options(got.Tags)}, nil
}
