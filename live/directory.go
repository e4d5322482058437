package live

import (
	"slices"
	"time"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/store"
)

// directory is the configuration the board shows beside the stream:
// names, team members, who a number rings, time zones and service levels.
// It is read again now and then (Hub), not followed event by event.
type directory struct {
	companies map[dialplan.CompanyID]*dirCompany
	users     map[dialplan.UserID]*dirUser
	teams     map[dialplan.TeamID]*dirTeam
	numbers   map[dialplan.NumberID]*dirNumber
}

type dirCompany struct {
	id       dialplan.CompanyID
	timeZone string
	loc      *time.Location
	sla      int
	users    []dialplan.UserID // in id order
	teams    []dialplan.TeamID
	numbers  []dialplan.NumberID
}

type dirUser struct {
	company dialplan.CompanyID
	name    string
	teams   []dialplan.TeamID
}

type dirTeam struct {
	company dialplan.CompanyID
	name    string
	members []dialplan.UserID
}

type dirNumber struct {
	company dialplan.CompanyID
	name    string
	sla     int                      // its own service level; 0: the company's
	rings   map[dialplan.UserID]bool // the users its ring steps and IVR options reach
}

func newDirectory(d store.LiveDirectory) *directory {
	dir := &directory{companies: map[dialplan.CompanyID]*dirCompany{}, users: map[dialplan.UserID]*dirUser{},
		teams: map[dialplan.TeamID]*dirTeam{}, numbers: map[dialplan.NumberID]*dirNumber{}}
	for _, c := range d.Companies {
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			loc = time.UTC // validated when saved; a zone this host lacks counts days in UTC
		}
		dir.companies[c.ID] = &dirCompany{id: c.ID, timeZone: c.TimeZone, loc: loc, sla: c.SLASeconds}
	}
	for company, users := range d.Users {
		c := dir.companies[company]
		for _, u := range users {
			dir.users[u.ID] = &dirUser{company: company, name: u.Name()}
			if c != nil {
				c.users = append(c.users, u.ID)
			}
		}
	}
	for company, teams := range d.Teams {
		c := dir.companies[company]
		for _, t := range teams {
			dir.teams[t.ID] = &dirTeam{company: company, name: t.Name, members: t.Users}
			for _, u := range t.Users {
				if du := dir.users[u]; du != nil && !slices.Contains(du.teams, t.ID) {
					du.teams = append(du.teams, t.ID)
				}
			}
			if c != nil {
				c.teams = append(c.teams, t.ID)
			}
		}
	}
	for company, numbers := range d.Numbers {
		c := dir.companies[company]
		for _, n := range numbers {
			dn := &dirNumber{company: company, name: n.Name, sla: n.SLASeconds, rings: map[dialplan.UserID]bool{}}
			reach := func(isTeam bool, id int64) {
				if !isTeam {
					dn.rings[dialplan.UserID(id)] = true
					return
				}
				if t := dir.teams[dialplan.TeamID(id)]; t != nil {
					for _, u := range t.members {
						dn.rings[u] = true
					}
				}
			}
			for _, s := range n.Distribution {
				reach(s.Type == dialplan.StepTeam, s.ID)
			}
			for _, o := range n.IVROptions {
				if o.Target.Type == dialplan.TargetUser || o.Target.Type == dialplan.TargetTeam {
					reach(o.Target.Type == dialplan.TargetTeam, o.Target.ID)
				}
			}
			dir.numbers[n.ID] = dn
			if c != nil {
				c.numbers = append(c.numbers, n.ID)
			}
		}
	}
	for _, c := range dir.companies {
		slices.Sort(c.users)
		slices.Sort(c.teams)
		slices.Sort(c.numbers)
	}
	return dir
}

// sla is the service level of a call of number n of company c.
func (d *directory) sla(c *dirCompany, n dialplan.NumberID) int {
	if dn := d.numbers[n]; dn != nil && dn.sla > 0 {
		return dn.sla
	}
	if c != nil {
		return c.sla
	}
	return 20
}

func (d *directory) userName(u dialplan.UserID) string {
	if du := d.users[u]; du != nil {
		return du.name
	}
	return ""
}

func (d *directory) numberName(n dialplan.NumberID) string {
	if dn := d.numbers[n]; dn != nil {
		return dn.name
	}
	return ""
}

func (d *directory) teamName(t dialplan.TeamID) string {
	if dt := d.teams[t]; dt != nil {
		return dt.name
	}
	return ""
}
