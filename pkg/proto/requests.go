package proto

import "github.com/zkx-dev/zkx/pkg/znode"

// CreateRequest is the body of create (1), create2 (15) and
// createContainer (19).
type CreateRequest struct {
	Path  string
	Data  []byte // nil and empty are distinct: nil is stored as null data
	ACL   []znode.ACL
	Flags int32 // znode.CreateMode
}

func (r *CreateRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int32(r.Flags)
}

func (r *CreateRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Flags = d.Int32()
	return d.Err()
}

// CreateTTLRequest is the body of createTTL (21).
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []znode.ACL
	Flags int32
	TTL   int64 // milliseconds
}

func (r *CreateTTLRequest) Encode(e *Encoder) {
	e.String(r.Path)
	e.Buffer(r.Data)
	EncodeACLs(e, r.ACL)
	e.Int32(r.Flags)
	e.Int64(r.TTL)
}

func (r *CreateTTLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.ACL = DecodeACLs(d)
	r.Flags = d.Int32()
	r.TTL = d.Int64()
	return d.Err()
}

// DeleteRequest is the body of delete (2). Version -1 matches any version.
type DeleteRequest struct {
	Path    string
	Version int32
}

func (r *DeleteRequest) Encode(e *Encoder) { e.String(r.Path); e.Int32(r.Version) }

func (r *DeleteRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Version = d.Int32()
	return d.Err()
}

// PathWatchRequest is the body of the reads that can leave a watch.
type PathWatchRequest struct {
	Path  string
	Watch bool
}

// The four reads share PathWatchRequest's layout.
type (
	ExistsRequest       = PathWatchRequest // exists (3)
	GetDataRequest      = PathWatchRequest // getData (4)
	GetChildrenRequest  = PathWatchRequest // getChildren (8)
	GetChildren2Request = PathWatchRequest // getChildren2 (12)
)

func (r *PathWatchRequest) Encode(e *Encoder) { e.String(r.Path); e.Bool(r.Watch) }

func (r *PathWatchRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Watch = d.Bool()
	return d.Err()
}

// SetDataRequest is the body of setData (5).
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

func (r *SetDataRequest) Encode(e *Encoder) { e.String(r.Path); e.Buffer(r.Data); e.Int32(r.Version) }

func (r *SetDataRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer()
	r.Version = d.Int32()
	return d.Err()
}

// PathRequest is the body of the requests that carry only a path.
type PathRequest struct {
	Path string
}

// The path-only requests share PathRequest's layout.
type (
	GetACLRequest               = PathRequest // getACL (6)
	SyncRequest                 = PathRequest // sync (9)
	DeleteContainerRequest      = PathRequest // deleteContainer (20)
	GetAllChildrenNumberRequest = PathRequest // getAllChildrenNumber (104)
)

func (r *PathRequest) Encode(e *Encoder) { e.String(r.Path) }

func (r *PathRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// SetACLRequest is the body of setACL (7). Version is checked against the
// node's aversion.
type SetACLRequest struct {
	Path    string
	ACL     []znode.ACL
	Version int32
}

func (r *SetACLRequest) Encode(e *Encoder) {
	e.String(r.Path)
	EncodeACLs(e, r.ACL)
	e.Int32(r.Version)
}

func (r *SetACLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.ACL = DecodeACLs(d)
	r.Version = d.Int32()
	return d.Err()
}

// CheckVersionRequest is the body of check (13), valid only inside a multi.
type CheckVersionRequest struct {
	Path    string
	Version int32
}

func (r *CheckVersionRequest) Encode(e *Encoder) { e.String(r.Path); e.Int32(r.Version) }

func (r *CheckVersionRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Version = d.Int32()
	return d.Err()
}

// GetEphemeralsRequest is the body of getEphemerals (103).
type GetEphemeralsRequest struct {
	PrefixPath string
}

func (r *GetEphemeralsRequest) Encode(e *Encoder) { e.String(r.PrefixPath) }

func (r *GetEphemeralsRequest) Decode(d *Decoder) error {
	r.PrefixPath = d.String()
	return d.Err()
}

// WatchTypeRequest is the body of checkWatches (17) and removeWatches (18).
type WatchTypeRequest struct {
	Path string
	Type int32 // znode.WatcherType
}

// checkWatches and removeWatches share WatchTypeRequest's layout.
type (
	CheckWatchesRequest  = WatchTypeRequest
	RemoveWatchesRequest = WatchTypeRequest
)

func (r *WatchTypeRequest) Encode(e *Encoder) { e.String(r.Path); e.Int32(r.Type) }

func (r *WatchTypeRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Type = d.Int32()
	return d.Err()
}

// AddWatchRequest is the body of addWatch (106).
type AddWatchRequest struct {
	Path string
	Mode int32 // znode.AddWatchMode
}

func (r *AddWatchRequest) Encode(e *Encoder) { e.String(r.Path); e.Int32(r.Mode) }

func (r *AddWatchRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Mode = d.Int32()
	return d.Err()
}

// AuthPacket is the body of auth (100), sent with xid -4.
type AuthPacket struct {
	Type   int32 // always 0
	Scheme string
	Auth   []byte // for digest, "user:password"
}

func (r *AuthPacket) Encode(e *Encoder) { e.Int32(r.Type); e.String(r.Scheme); e.Buffer(r.Auth) }

func (r *AuthPacket) Decode(d *Decoder) error {
	r.Type = d.Int32()
	r.Scheme = d.String()
	r.Auth = d.Buffer()
	return d.Err()
}

// SetWatches is the body of setWatches (101): the one-shot watches a
// client re-registers after reconnecting.
type SetWatches struct {
	RelativeZxid int64
	DataWatches  []string
	ExistWatches []string
	ChildWatches []string
}

func (r *SetWatches) Encode(e *Encoder) {
	e.Int64(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
}

func (r *SetWatches) Decode(d *Decoder) error {
	r.RelativeZxid = d.Int64()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	return d.Err()
}

// SetWatches2 is the body of setWatches2 (105), which adds the persistent
// and persistent-recursive watches.
type SetWatches2 struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
}

func (r *SetWatches2) Encode(e *Encoder) {
	e.Int64(r.RelativeZxid)
	e.Strings(r.DataWatches)
	e.Strings(r.ExistWatches)
	e.Strings(r.ChildWatches)
	e.Strings(r.PersistentWatches)
	e.Strings(r.PersistentRecursiveWatches)
}

func (r *SetWatches2) Decode(d *Decoder) error {
	r.RelativeZxid = d.Int64()
	r.DataWatches = d.Strings()
	r.ExistWatches = d.Strings()
	r.ChildWatches = d.Strings()
	r.PersistentWatches = d.Strings()
	r.PersistentRecursiveWatches = d.Strings()
	return d.Err()
}

// ReconfigRequest is the body of reconfig (16).
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64
}

func (r *ReconfigRequest) Encode(e *Encoder) {
	e.String(r.JoiningServers)
	e.String(r.LeavingServers)
	e.String(r.NewMembers)
	e.Int64(r.CurConfigID)
}

func (r *ReconfigRequest) Decode(d *Decoder) error {
	r.JoiningServers = d.String()
	r.LeavingServers = d.String()
	r.NewMembers = d.String()
	r.CurConfigID = d.Int64()
	return d.Err()
}

// GetSASLRequest is the body of sasl (102).
type GetSASLRequest struct {
	Token []byte
}

func (r *GetSASLRequest) Encode(e *Encoder) { e.Buffer(r.Token) }

func (r *GetSASLRequest) Decode(d *Decoder) error {
	r.Token = d.Buffer()
	return d.Err()
}
