package proto

import "github.com/zkx-dev/zkx/pkg/znode"

// Response records. Lists a client hands to its caller (children,
// ephemerals, client infos) are always encoded as a vector, never as null:
// a nil slice goes out as an empty vector, and a null vector decodes as an
// empty slice, because the Java client passes a null list straight to
// application code.

// CreateResponse is the reply to create (1): the path actually created,
// with any sequential suffix.
type CreateResponse struct {
	Path string
}

func (r *CreateResponse) Encode(e *Encoder) { e.String(r.Path) }

func (r *CreateResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// Create2Response is the reply to create2 (15), createContainer (19) and
// createTTL (21).
type Create2Response struct {
	Path string
	Stat znode.Stat
}

func (r *Create2Response) Encode(e *Encoder) { e.String(r.Path); EncodeStat(e, &r.Stat) }

func (r *Create2Response) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Stat = DecodeStat(d)
	return d.Err()
}

// StatResponse is a reply carrying only a Stat.
type StatResponse struct {
	Stat znode.Stat
}

// exists, setData and setACL reply with StatResponse's layout.
type (
	ExistsResponse  = StatResponse // exists (3)
	SetDataResponse = StatResponse // setData (5)
	SetACLResponse  = StatResponse // setACL (7)
)

func (r *StatResponse) Encode(e *Encoder) { EncodeStat(e, &r.Stat) }

func (r *StatResponse) Decode(d *Decoder) error {
	r.Stat = DecodeStat(d)
	return d.Err()
}

// GetDataResponse is the reply to getData (4) and reconfig (16). Data is
// nil for a node created with null data, which the wire keeps distinct
// from empty data.
type GetDataResponse struct {
	Data []byte
	Stat znode.Stat
}

func (r *GetDataResponse) Encode(e *Encoder) { e.Buffer(r.Data); EncodeStat(e, &r.Stat) }

func (r *GetDataResponse) Decode(d *Decoder) error {
	r.Data = d.Buffer()
	r.Stat = DecodeStat(d)
	return d.Err()
}

// GetACLResponse is the reply to getACL (6).
type GetACLResponse struct {
	ACL  []znode.ACL
	Stat znode.Stat
}

func (r *GetACLResponse) Encode(e *Encoder) { EncodeACLs(e, r.ACL); EncodeStat(e, &r.Stat) }

func (r *GetACLResponse) Decode(d *Decoder) error {
	r.ACL = DecodeACLs(d)
	r.Stat = DecodeStat(d)
	return d.Err()
}

// GetChildrenResponse is the reply to getChildren (8): child names only.
type GetChildrenResponse struct {
	Children []string
}

func (r *GetChildrenResponse) Encode(e *Encoder) { e.Strings(nonNilStrings(r.Children)) }

func (r *GetChildrenResponse) Decode(d *Decoder) error {
	r.Children = nonNilStrings(d.Strings())
	return d.Err()
}

// GetChildren2Response is the reply to getChildren2 (12).
type GetChildren2Response struct {
	Children []string
	Stat     znode.Stat
}

func (r *GetChildren2Response) Encode(e *Encoder) {
	e.Strings(nonNilStrings(r.Children))
	EncodeStat(e, &r.Stat)
}

func (r *GetChildren2Response) Decode(d *Decoder) error {
	r.Children = nonNilStrings(d.Strings())
	r.Stat = DecodeStat(d)
	return d.Err()
}

// SyncResponse is the reply to sync (9): the path, echoed.
type SyncResponse struct {
	Path string
}

func (r *SyncResponse) Encode(e *Encoder) { e.String(r.Path) }

func (r *SyncResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// ErrorResponse carries an error code as a body: the body of a multi
// ErrorResult, and the success body of addWatch (106), which must be
// present (Err 0) because the Java client reads it.
type ErrorResponse struct {
	Err int32
}

func (r *ErrorResponse) Encode(e *Encoder) { e.Int32(r.Err) }

func (r *ErrorResponse) Decode(d *Decoder) error {
	r.Err = d.Int32()
	return d.Err()
}

// GetEphemeralsResponse is the reply to getEphemerals (103).
type GetEphemeralsResponse struct {
	Ephemerals []string
}

func (r *GetEphemeralsResponse) Encode(e *Encoder) { e.Strings(nonNilStrings(r.Ephemerals)) }

func (r *GetEphemeralsResponse) Decode(d *Decoder) error {
	r.Ephemerals = nonNilStrings(d.Strings())
	return d.Err()
}

// GetAllChildrenNumberResponse is the reply to getAllChildrenNumber (104).
type GetAllChildrenNumberResponse struct {
	TotalNumber int32
}

func (r *GetAllChildrenNumberResponse) Encode(e *Encoder) { e.Int32(r.TotalNumber) }

func (r *GetAllChildrenNumberResponse) Decode(d *Decoder) error {
	r.TotalNumber = d.Int32()
	return d.Err()
}

// ClientInfo is one identity in a WhoAmIResponse, e.g. {"ip", "127.0.0.1"}.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// clientInfoMinLen is the smallest encoded ClientInfo: two empty strings.
const clientInfoMinLen = 8

// WhoAmIResponse is the reply to whoAmI (107).
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

func (r *WhoAmIResponse) Encode(e *Encoder) {
	if !e.lengthOK(len(r.ClientInfo), "vector") {
		return
	}
	e.Int32(int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		e.String(r.ClientInfo[i].AuthScheme)
		e.String(r.ClientInfo[i].User)
	}
}

func (r *WhoAmIResponse) Decode(d *Decoder) error {
	n := d.length("vector<ClientInfo>", clientInfoMinLen)
	r.ClientInfo = make([]ClientInfo, max(n, 0))
	for i := range r.ClientInfo {
		r.ClientInfo[i].AuthScheme = d.String()
		r.ClientInfo[i].User = d.String()
	}
	if d.Err() != nil {
		r.ClientInfo = nil
	}
	return d.Err()
}

// SetSASLResponse is the reply to sasl (102).
type SetSASLResponse struct {
	Token []byte
}

func (r *SetSASLResponse) Encode(e *Encoder) { e.Buffer(r.Token) }

func (r *SetSASLResponse) Decode(d *Decoder) error {
	r.Token = d.Buffer()
	return d.Err()
}
