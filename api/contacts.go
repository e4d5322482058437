package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard/switchboard/dialplan"
	"github.com/switchboard/switchboard/phone"
	"github.com/switchboard/switchboard/store"
)

// Contacts, shaped as Aircall's: the company's shared address book, which
// every user of the company reads and writes (Aircall's contacts are all
// shared; is_shared is always true). A contact has at least one phone
// number, and its phone numbers and emails change through their own
// routes (phone_details, email_details), as in Aircall.

// Bounds of a contact's fields, in characters.
const (
	maxContactName  = 255
	maxContactInfo  = 4096
	maxContactLabel = 64
	maxEmail        = 254 // RFC 5321's path limit
)

type contactDetailJSON struct {
	ID    store.ContactDetailID `json:"id"`
	Label string                `json:"label"`
	Value string                `json:"value"`
}

type contactJSON struct {
	ID          store.ContactID `json:"id"`
	DirectLink  string          `json:"direct_link"`
	FirstName   string          `json:"first_name"`
	LastName    string          `json:"last_name"`
	CompanyName string          `json:"company_name"`
	// Description is Aircall's older name of information, kept for the
	// integrations that still read it.
	Description  string              `json:"description"`
	Information  string              `json:"information"`
	IsShared     bool                `json:"is_shared"`
	PhoneNumbers []contactDetailJSON `json:"phone_numbers"`
	Emails       []contactDetailJSON `json:"emails"`
	CreatedAt    int64               `json:"created_at"` // UNIX seconds, as Aircall's contacts
	UpdatedAt    int64               `json:"updated_at"`
}

func newContactJSON(at site, c store.Contact) contactJSON {
	details := func(in []store.ContactDetail) []contactDetailJSON {
		out := make([]contactDetailJSON, len(in))
		for i, d := range in {
			out[i] = contactDetailJSON{ID: d.ID, Label: d.Label, Value: d.Value}
		}
		return out
	}
	return contactJSON{ID: c.ID, DirectLink: at.link("/v1/contacts/%d", c.ID), FirstName: c.FirstName,
		LastName: c.LastName, CompanyName: c.CompanyName, Description: c.Information, Information: c.Information,
		IsShared: true, PhoneNumbers: details(c.PhoneNumbers), Emails: details(c.Emails),
		CreatedAt: c.CreatedAt.Unix(), UpdatedAt: c.UpdatedAt.Unix()}
}

// showContact is the contact as GET /v1/contacts/:id shows it: the data
// of its webhook events.
func (d *Deps) showContact(c store.Contact) (json.RawMessage, error) {
	return encodeObject(newContactJSON(d.site(), c))
}

// contactDetailInput is a phone number or an email as a client sends it.
// Its id may be sent back as read; it is ignored.
type contactDetailInput struct {
	ID    json.RawMessage `json:"id,omitempty"`
	Label string          `json:"label"`
	Value string          `json:"value"`
}

// contactInput is a contact as a client sends it: only the fields sent
// change. What the server keeps may be sent back as read, and is ignored.
type contactInput struct {
	FirstName    *string               `json:"first_name"`
	LastName     *string               `json:"last_name"`
	CompanyName  *string               `json:"company_name"`
	Information  *string               `json:"information"`
	Description  *string               `json:"description"`
	PhoneNumbers *[]contactDetailInput `json:"phone_numbers"`
	Emails       *[]contactDetailInput `json:"emails"`
	readOnly
	ID        json.RawMessage `json:"id,omitempty"`
	IsShared  json.RawMessage `json:"is_shared,omitempty"`
	CreatedAt json.RawMessage `json:"created_at,omitempty"`
	UpdatedAt json.RawMessage `json:"updated_at,omitempty"`
}

// apply copies the contact's own fields sent onto c, and checks them.
// description is taken only when information is not sent: a contact read
// and sent back has both, and information is the one a client changes.
func (in contactInput) apply(c *store.Contact) error {
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
		max  int
	}{
		{"first_name", in.FirstName, &c.FirstName, maxContactName},
		{"last_name", in.LastName, &c.LastName, maxContactName},
		{"company_name", in.CompanyName, &c.CompanyName, maxContactName},
		{"description", in.Description, &c.Information, maxContactInfo},
		{"information", in.Information, &c.Information, maxContactInfo},
	} {
		if f.src == nil || (f.name == "description" && in.Information != nil) {
			continue
		}
		v := strings.TrimSpace(*f.src)
		if utf8.RuneCountInString(v) > f.max {
			return &dialplan.FieldError{Field: f.name, Problem: fmt.Sprintf("longer than %d characters", f.max)}
		}
		*f.dst = v
	}
	return nil
}

// contactDetail checks one phone number or email as field ("value",
// "phone_numbers[0]") and returns it as stored: E.164 in the company's
// country, or a lower-cased address.
func contactDetail(field string, k store.DetailKind, in contactDetailInput, country string) (store.ContactDetail, error) {
	prefix := field
	if prefix != "" {
		prefix += "."
	}
	label := strings.TrimSpace(in.Label)
	if utf8.RuneCountInString(label) > maxContactLabel {
		return store.ContactDetail{}, &dialplan.FieldError{Field: prefix + "label", Problem: fmt.Sprintf("longer than %d characters", maxContactLabel)}
	}
	d := store.ContactDetail{Label: label}
	switch k {
	case store.PhoneDetail:
		e164, err := phone.Normalize(in.Value, country)
		if err != nil {
			return d, &dialplan.FieldError{Field: prefix + "value", Problem: err.Error()}
		}
		d.Value = e164
	default:
		email, err := normalizeEmail(in.Value)
		if err != nil {
			return d, &dialplan.FieldError{Field: prefix + "value", Problem: err.Error()}
		}
		d.Value = email
	}
	return d, nil
}

// normalizeEmail lower-cases an address and checks it as the users'
// emails are checked: a bare address whose domain has a dot.
func normalizeEmail(raw string) (string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", fmt.Errorf("is required")
	}
	if len(email) > maxEmail {
		return "", fmt.Errorf("longer than %d characters", maxEmail)
	}
	if !dialplan.IsEmail(email) {
		return "", fmt.Errorf("%q is not an email address", raw)
	}
	return email, nil
}

// contactDetails checks a list sent on a contact (phone_numbers, emails).
func contactDetails(field string, k store.DetailKind, in []contactDetailInput, country string) ([]store.ContactDetail, error) {
	if len(in) > store.MaxContactDetails {
		return nil, &dialplan.FieldError{Field: field, Problem: fmt.Sprintf("at most %d", store.MaxContactDetails)}
	}
	out := make([]store.ContactDetail, len(in))
	for i, d := range in {
		var err error
		if out[i], err = contactDetail(fmt.Sprintf("%s[%d]", field, i), k, d, country); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// country is the company's, in which national numbers are read.
func (s *server) country(c *gin.Context) (string, error) {
	company, err := s.Store.Company(c.Request.Context(), principal(c).Company)
	return company.Country, err
}

// queryPhone reads the phone_number query parameter, when set, as a phone
// number typed here (national numbers in the company's country) into dst,
// in E.164.
func (s *server) queryPhone(c *gin.Context, dst *string) error {
	raw := c.Query("phone_number")
	if raw == "" {
		return nil
	}
	country, err := s.country(c)
	if err != nil {
		return err
	}
	if *dst, err = phone.Normalize(raw, country); err != nil {
		return &dialplan.FieldError{Field: "phone_number", Problem: err.Error()}
	}
	return nil
}

func (s *server) listContacts(c *gin.Context) {
	s.writeContacts(c, store.ContactFilter{})
}

// searchContacts filters by phone_number (read in the company's country,
// as every number typed here) and email (case-insensitive), both exact.
func (s *server) searchContacts(c *gin.Context) {
	var f store.ContactFilter
	if err := s.queryPhone(c, &f.Phone); err != nil {
		s.fail(c, err)
		return
	}
	f.Email = strings.ToLower(strings.TrimSpace(c.Query("email")))
	s.writeContacts(c, f)
}

func (s *server) writeContacts(c *gin.Context, f store.ContactFilter) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	contacts, total, err := s.Store.SearchContacts(c.Request.Context(), principal(c).Company, f, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]contactJSON, len(contacts))
	for i, ct := range contacts {
		out[i] = newContactJSON(s.site(), ct)
	}
	list(c, s.site(), "contacts", out, total, p)
}

func (s *server) createContact(c *gin.Context) {
	var in contactInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	var ct store.Contact
	if err := in.apply(&ct); err != nil {
		s.fail(c, err)
		return
	}
	// Aircall asks for a phone number: a contact is someone who calls.
	if in.PhoneNumbers == nil || len(*in.PhoneNumbers) == 0 {
		s.fail(c, &dialplan.FieldError{Field: "phone_numbers", Problem: "is required: at least one phone number"})
		return
	}
	country, err := s.country(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if ct.PhoneNumbers, err = contactDetails("phone_numbers", store.PhoneDetail, *in.PhoneNumbers, country); err != nil {
		s.fail(c, err)
		return
	}
	ct.Emails = []store.ContactDetail{}
	if in.Emails != nil {
		if ct.Emails, err = contactDetails("emails", store.EmailDetail, *in.Emails, country); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.Store.CreateContact(c.Request.Context(), principal(c).Company, &ct, s.showContact); err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusCreated, gin.H{"contact": newContactJSON(s.site(), ct)})
}

func (s *server) contactID(c *gin.Context) (store.ContactID, error) {
	id, err := pathID(c, "id")
	return store.ContactID(id), err
}

func (s *server) getContact(c *gin.Context) {
	id, err := s.contactID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ct, err := s.Store.Contact(c.Request.Context(), principal(c).Company, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"contact": newContactJSON(s.site(), ct)})
}

// updateContact changes the contact's own fields. Its phone numbers and
// emails may be sent back as read; a change to them is refused, naming
// the route that makes it, rather than dropped unseen.
func (s *server) updateContact(c *gin.Context) {
	id, err := s.contactID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ct, err := s.Store.Contact(c.Request.Context(), principal(c).Company, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	var in contactInput
	if err := decode(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if err := in.apply(&ct); err != nil {
		s.fail(c, err)
		return
	}
	country, err := s.country(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, x := range []struct {
		field, route string
		kind         store.DetailKind
		sent         *[]contactDetailInput
		have         []store.ContactDetail
	}{
		{"phone_numbers", "phone_details", store.PhoneDetail, in.PhoneNumbers, ct.PhoneNumbers},
		{"emails", "email_details", store.EmailDetail, in.Emails, ct.Emails},
	} {
		if x.sent == nil {
			continue
		}
		got, err := contactDetails(x.field, x.kind, *x.sent, country)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !sameDetails(got, x.have) {
			s.fail(c, &dialplan.FieldError{Field: x.field, Problem: fmt.Sprintf("cannot be changed here (send it as read, "+
				"or leave it out); change them with /v1/contacts/%d/%s", id, x.route)})
			return
		}
	}
	out, err := s.Store.UpdateContact(c.Request.Context(), principal(c).Company, ct, s.showContact)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"contact": newContactJSON(s.site(), out)})
}

// sameDetails compares lists by label and value, in order (ids as sent
// are ignored).
func sameDetails(a, b []store.ContactDetail) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Label != b[i].Label || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

func (s *server) deleteContact(c *gin.Context) {
	id, err := s.contactID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.DeleteContact(c.Request.Context(), principal(c).Company, id, s.showContact); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// addContactDetail is POST phone_details or email_details: one detail,
// {"label", "value"}; the answer is the whole contact.
func (s *server) addContactDetail(k store.DetailKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := s.contactID(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		d, err := s.readContactDetail(c, k)
		if err != nil {
			s.fail(c, err)
			return
		}
		ct, err := s.Store.AddContactDetail(c.Request.Context(), principal(c).Company, id, k, &d, s.showContact)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.PureJSON(http.StatusCreated, gin.H{"contact": newContactJSON(s.site(), ct)})
	}
}

// updateContactDetail is PUT phone_details/:phone_id or
// email_details/:email_id: both label and value are set as sent.
func (s *server) updateContactDetail(k store.DetailKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, detail, err := s.detailPath(c, k)
		if err != nil {
			s.fail(c, err)
			return
		}
		d, err := s.readContactDetail(c, k)
		if err != nil {
			s.fail(c, err)
			return
		}
		d.ID = detail
		ct, err := s.Store.UpdateContactDetail(c.Request.Context(), principal(c).Company, id, k, d, s.showContact)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.PureJSON(http.StatusOK, gin.H{"contact": newContactJSON(s.site(), ct)})
	}
}

func (s *server) deleteContactDetail(k store.DetailKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, detail, err := s.detailPath(c, k)
		if err != nil {
			s.fail(c, err)
			return
		}
		if err := s.Store.DeleteContactDetail(c.Request.Context(), principal(c).Company, id, k, detail, s.showContact); err != nil {
			s.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// detailPath reads the contact's and the detail's ids from the path.
func (s *server) detailPath(c *gin.Context, k store.DetailKind) (store.ContactID, store.ContactDetailID, error) {
	id, err := s.contactID(c)
	if err != nil {
		return 0, 0, err
	}
	detail, err := pathID(c, detailParam(k))
	return id, store.ContactDetailID(detail), err
}

// detailParam names a detail's id in the path, as routes.go does.
func detailParam(k store.DetailKind) string {
	if k == store.PhoneDetail {
		return "phone_id"
	}
	return "email_id"
}

func (s *server) readContactDetail(c *gin.Context, k store.DetailKind) (store.ContactDetail, error) {
	var in contactDetailInput
	if err := decode(c, &in); err != nil {
		return store.ContactDetail{}, err
	}
	country, err := s.country(c)
	if err != nil {
		return store.ContactDetail{}, err
	}
	return contactDetail("", k, in, country)
}
