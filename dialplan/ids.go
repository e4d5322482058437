package dialplan

// Typed ids keep a user id from being passed where a team id is expected.
type (
	CompanyID       int64
	UserID          int64
	TeamID          int64
	NumberID        int64
	TagID           int64
	BlockedNumberID int64
	MediaID         int64
	CallID          int64
	CommentID       int64
)
