package api

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/switchboard/switchboard/store"
)

// openAPIContacts says who may use the address book: everybody, as in
// Aircall, where every contact is shared with the whole company.
const openAPIContacts = "**Roles:** any key (admin, supervisor or agent; owner or not). Contacts are the company's shared " +
	"address book, as Aircall's (`is_shared` is always true): every user of the company reads and writes every contact."

// defineContactSchemas writes the schemas of the address book
// (contacts.go).
func (b *openAPIBuilder) defineContactSchemas() {
	label := func() *openapi3.Schema {
		return b.strMax("Free label, such as `Work` or `Mobile`; default empty.", maxContactLabel)
	}
	b.define("ContactPhoneNumber", b.object("A phone number of a contact.",
		b.p("id", b.ro(b.id("The phone number's id (its `phone_id`)."))),
		b.p("label", label()),
		b.p("value", b.phone("The number; national numbers are read in the company's country. Required."))).
		WithRequired([]string{"id", "value"}))
	b.define("ContactEmail", b.object("An email of a contact.",
		b.p("id", b.ro(b.id("The email's id (its `email_id`)."))),
		b.p("label", label()),
		b.p("value", b.str("The address; stored and returned lower-cased. Required.").WithFormat("email").
			WithMaxLength(maxEmail))).
		WithRequired([]string{"id", "value"}))

	name := func(desc string) *openapi3.Schema { return b.strMax(desc+" Default empty.", maxContactName) }
	b.define("Contact", b.object("A contact of the company's shared address book, as Aircall's. `phone_numbers` (at "+
		"least one) is required on creation. On update, `phone_numbers` and `emails` may be sent back as read; a "+
		"change to them is a 422 naming the field: they change through `phone_details` and `email_details`.",
		b.idField("contact"),
		b.linkField("/v1/contacts/1"),
		b.p("first_name", name("First name.")),
		b.p("last_name", name("Last name.")),
		b.p("company_name", name("The contact's company.")),
		b.p("information", b.strMax("Free notes about the contact. Default empty.", maxContactInfo)),
		b.p("description", b.strMax("Aircall's older name of `information`, and always equal to it; on a request it is "+
			"taken as `information` when `information` is not sent.", maxContactInfo)),
		b.p("is_shared", b.ro(b.boolean("Always true: every contact is shared with the whole company."))),
		b.p("phone_numbers", b.array("Phone numbers, in the order they were added.", b.ref("ContactPhoneNumber")).
			WithMaxItems(store.MaxContactDetails)),
		b.p("emails", b.array("Emails, in the order they were added.", b.ref("ContactEmail")).
			WithMaxItems(store.MaxContactDetails)),
		b.p("created_at", b.ro(b.described(openapi3.NewInt64Schema().WithMin(0), "When it was created, UNIX seconds (as "+
			"Aircall's contacts)."))),
		b.p("updated_at", b.ro(b.described(openapi3.NewInt64Schema().WithMin(0), "When it, or one of its phone numbers or "+
			"emails, last changed, UNIX seconds.")))))
}

// contactOperations are the routes of contacts.go.
func (b *openAPIBuilder) contactOperations() []openAPIOperation {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	conflict := []int{http.StatusConflict}
	contact := b.wrapped("contact", "Contact")
	search := []*openapi3.Parameter{
		openapi3.NewQueryParameter("phone_number").WithDescription("Only contacts with this phone number, compared in " +
			"E.164: national numbers are read in the company's country. A number that cannot be made E.164 is a 422 " +
			"on `phone_number`.").WithSchema(openapi3.NewStringSchema()),
		openapi3.NewQueryParameter("email").WithDescription("Only contacts with this email, case-insensitive.").
			WithSchema(openapi3.NewStringSchema()),
	}
	update := func(method, id, details string) openAPIOperation {
		return openAPIOperation{method: method, path: "/v1/contacts/{id}", id: id, tag: "contacts", summary: "Update a contact",
			roles: openAPIContacts, details: details + " Changes the fields sent, and `updated_at`. A phone number or email " +
				"changes through `phone_details` and `email_details`.",
			body: b.ref("Contact"), status: http.StatusOK, result: contact, resultDesc: "The contact as saved."}
	}
	details := func(kind, path, param, schema string, deleteConflict string) []openAPIOperation {
		ops := []openAPIOperation{
			{method: post, path: "/v1/contacts/{id}/" + path, id: "add" + schema, tag: "contacts", summary: "Add " + kind + " to a contact",
				roles: openAPIContacts, details: "One " + kind + ", `{\"label\", \"value\"}`; a bad `value` is a 422 on `value`. " +
					"A contact has at most 20 of them: a 21st is a 409.",
				body: b.ref(schema), errors: conflict, status: http.StatusCreated, result: contact,
				resultDesc: "The whole contact, with the new " + kind + " last."},
			{method: put, path: "/v1/contacts/{id}/" + path + "/{" + param + "}", id: "update" + schema, tag: "contacts",
				summary: "Update " + kind + " of a contact", roles: openAPIContacts,
				details: "Sets `label` and `value` as sent. 404 for " + kind + " that is not this contact's.",
				body:    b.ref(schema), status: http.StatusOK, result: contact, resultDesc: "The whole contact."},
			{method: del, path: "/v1/contacts/{id}/" + path + "/{" + param + "}", id: "delete" + schema, tag: "contacts",
				summary: "Delete " + kind + " from a contact", roles: openAPIContacts,
				details: "404 for " + kind + " that is not this contact's." + deleteConflict,
				status:  http.StatusNoContent, resultDesc: "Deleted."},
		}
		if deleteConflict != "" {
			ops[2].errors = conflict
		}
		return ops
	}
	ops := []openAPIOperation{
		{method: get, path: "/v1/contacts", id: "listContacts", tag: "contacts", summary: "List contacts",
			roles: openAPIContacts, list: true,
			status: http.StatusOK, result: b.listed("contacts", "Contact"), resultDesc: "A page of contacts."},
		{method: get, path: "/v1/contacts/search", id: "searchContacts", tag: "contacts", summary: "Search contacts",
			roles: openAPIContacts, details: "By `phone_number` and `email` (both when both are given), paged as the list.",
			list: true, query: search,
			status: http.StatusOK, result: b.listed("contacts", "Contact"), resultDesc: "A page of the contacts that match."},
		{method: post, path: "/v1/contacts", id: "createContact", tag: "contacts", summary: "Create a contact",
			roles: openAPIContacts, details: "`phone_numbers` (1 to 20) is required, `emails` (up to 20) optional; the contact " +
				"and all its details are saved together or not at all. A bad number or email is a 422 naming it " +
				"(`phone_numbers[1].value`).",
			body: b.ref("Contact"), status: http.StatusCreated, result: contact, resultDesc: "The new contact."},
		{method: get, path: "/v1/contacts/{id}", id: "getContact", tag: "contacts", summary: "Get a contact",
			roles: openAPIContacts, status: http.StatusOK, result: contact, resultDesc: "The contact."},
		update(post, "updateContact", "Aircall's way to update a contact (`PUT` does the same)."),
		update(put, "updateContactPut", "The house way to update a contact (`POST` does the same, as in Aircall)."),
		{method: del, path: "/v1/contacts/{id}", id: "deleteContact", tag: "contacts", summary: "Delete a contact",
			roles: openAPIContacts, details: "With its phone numbers and emails.",
			status: http.StatusNoContent, resultDesc: "Deleted."},
	}
	ops = append(ops, details("a phone number", "phone_details", "phone_id", "ContactPhoneNumber",
		" A contact keeps at least one phone number: deleting the last is a 409 (delete the contact instead).")...)
	return append(ops, details("an email", "email_details", "email_id", "ContactEmail", "")...)
}
