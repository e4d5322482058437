package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Company settings and API keys, under Account (the admin guide's
// "Compte"): the owner permission changes the company (PUT /v1/company)
// and manages the keys (/v1/api_keys). Anyone reads the company's
// settings, as the API lets them.

type companyForm struct {
	Name, TimeZone, Language, Country, SLA, Countries string
	Premium                                           bool
	Error                                             string
	Errors                                            map[string]string
}

type companyPage struct {
	Form          companyForm
	Languages     []string
	Users, Number int
	CreatedAt     time.Time
}

func (companyPage) title() string { return "company.title" }

// companyJSON is the company as the API gives it.
type companyJSON struct {
	Name       string    `json:"name"`
	TimeZone   string    `json:"time_zone"`
	Language   string    `json:"language"`
	Country    string    `json:"country"`
	SLASeconds int       `json:"sla_seconds"`
	CreatedAt  time.Time `json:"created_at"`
	Users      int       `json:"users_count"`
	Numbers    int       `json:"numbers_count"`
	Outbound   struct {
		AllowedCountries []string `json:"allowed_countries"`
		AllowPremiumRate bool     `json:"allow_premium_rate"`
	} `json:"outbound"`
}

func (s *server) company(w http.ResponseWriter, r *http.Request) {
	s.showCompany(w, r, http.StatusOK, nil)
}

// showCompany renders the settings: as saved, or f as typed.
func (s *server) showCompany(w http.ResponseWriter, r *http.Request, status int, f *companyForm) {
	var got struct{ Company companyJSON }
	if err := s.callAPI(r.Context(), r, http.MethodGet, "/v1/company", nil, &got); err != nil {
		s.fail(w, r, err)
		return
	}
	c := got.Company
	page := companyPage{Languages: companyLanguages, Users: c.Users, Number: c.Numbers, CreatedAt: c.CreatedAt, Form: companyForm{Name: c.Name, TimeZone: c.TimeZone,
		Language: c.Language, Country: c.Country, SLA: strconv.Itoa(c.SLASeconds),
		Countries: strings.Join(c.Outbound.AllowedCountries, ", "), Premium: c.Outbound.AllowPremiumRate}}
	if f != nil {
		page.Form = *f
	}
	if !slices.Contains(page.Languages, page.Form.Language) {
		// A tag the API took from elsewhere (fr, de-DE): kept as it is.
		page.Languages = append([]string{page.Form.Language}, page.Languages...)
	}
	s.render(w, r, status, "company", page)
}

// Languages the company may speak: its prompts' and its mails'; the
// dashboard's two.
var companyLanguages = []string{"fr-FR", "en-US"}

func (s *server) updateCompany(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	f := companyForm{Name: strings.TrimSpace(r.PostFormValue("name")), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone")),
		Language: r.PostFormValue("language"), Country: strings.TrimSpace(r.PostFormValue("country")),
		SLA: strings.TrimSpace(r.PostFormValue("sla_seconds")), Countries: r.PostFormValue("allowed_countries"),
		Premium: r.PostFormValue("allow_premium_rate") == "true"}
	body := map[string]any{"name": f.Name, "time_zone": f.TimeZone, "language": f.Language, "country": f.Country}
	// The SLA goes as typed when it is not a number, so that the API
	// names the field in its words rather than the dashboard guessing.
	if n, err := strconv.Atoi(f.SLA); err == nil {
		body["sla_seconds"] = n
	} else {
		body["sla_seconds"] = f.SLA
	}
	countries := []string{}
	for _, c := range strings.FieldsFunc(f.Countries, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		countries = append(countries, c)
	}
	body["outbound"] = map[string]any{"allowed_countries": countries, "allow_premium_rate": f.Premium}
	err := s.callAPI(r.Context(), r, http.MethodPut, "/v1/company", body, nil)
	// The API names the policy's fields from the company: outbound.…
	const outbound = "outbound."
	if errs, msg, status, ok := refusal(err, "name", "time_zone", "language", "country", "sla_seconds", outbound+"allowed_countries"); ok {
		f.Errors, f.Error = errs, msg
		if m, ok := errs[outbound+"allowed_countries"]; ok {
			f.Errors = map[string]string{"allowed_countries": m}
		}
		s.showCompany(w, r, status, &f)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "company.saved")})
	s.redirect(w, r, "/account/company")
}

type apiKeyRow struct {
	ID        int64      `json:"id"`
	APIID     string     `json:"api_id"`
	UserID    int64      `json:"user_id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at"`
	APIToken  string     `json:"api_token"`
}

type apiKeysPage struct {
	Keys []apiKeyRow
	// Created is the key just made, with its token: this answer is the
	// only place the token ever is (the API keeps only its hash).
	Created                        *apiKeyRow
	Name, Error                    string
	Errors                         map[string]string
	Total, Page, Pages, Prev, Next int
}

func (apiKeysPage) title() string { return "apikeys.title" }

func (s *server) apiKeys(w http.ResponseWriter, r *http.Request) {
	s.showAPIKeys(w, r, http.StatusOK, apiKeysPage{})
}

func (s *server) showAPIKeys(w http.ResponseWriter, r *http.Request, status int, page apiKeysPage) {
	n, _ := strconv.Atoi(r.FormValue("page"))
	page.Page = max(n, 1)
	var list struct {
		Keys []apiKeyRow `json:"api_keys"`
		Meta pageMeta    `json:"meta"`
	}
	if err := s.callAPI(r.Context(), r, http.MethodGet, fmt.Sprintf("/v1/api_keys?per_page=%d&page=%d", usersPerPage, page.Page), nil, &list); err != nil {
		s.fail(w, r, err)
		return
	}
	page.Keys, page.Total = list.Keys, list.Meta.Total
	page.Pages = max((page.Total+usersPerPage-1)/usersPerPage, 1)
	page.Prev, page.Next = page.Page-1, page.Page+1
	s.render(w, r, status, "company_apikeys", page)
}

// createAPIKey makes a key acting as the signed-in owner, and shows its
// token on the page that answers (not after a redirect: the token would
// have to be kept somewhere for the next page).
func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	var created struct {
		Key apiKeyRow `json:"api_key"`
	}
	err := s.callAPI(r.Context(), r, http.MethodPost, "/v1/api_keys", map[string]any{"name": name}, &created)
	if errs, msg, status, ok := refusal(err, "name"); ok {
		s.showAPIKeys(w, r, status, apiKeysPage{Name: name, Errors: errs, Error: msg})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showAPIKeys(w, r, http.StatusCreated, apiKeysPage{Created: &created.Key})
}

func (s *server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	v := visitOf(r)
	id, ok := pathID[int64](r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	if !s.confirmed(w, r, translate(v.lang, "confirm.apikey", r.PostFormValue("api_id")), "apikeys.revoke", "/account/api-keys") {
		return
	}
	if err := s.callAPI(r.Context(), r, http.MethodDelete, fmt.Sprintf("/v1/api_keys/%d", id), nil, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	s.setFlash(w, flash{Kind: "ok", Text: translate(v.lang, "apikeys.revoked", r.PostFormValue("api_id"))})
	s.redirect(w, r, "/account/api-keys")
}
