package znode

import "errors"

// Error sentinels, one per ZooKeeper error code a client can observe.
// Wrap them with %w; proto.Code maps them back to wire codes.
var (
	ErrRuntimeInconsistency    = errors.New("znode: runtime inconsistency")
	ErrMarshalling             = errors.New("znode: marshalling error")
	ErrUnimplemented           = errors.New("znode: unimplemented")
	ErrBadArguments            = errors.New("znode: bad arguments")
	ErrNoNode                  = errors.New("znode: node does not exist")
	ErrNoAuth                  = errors.New("znode: not authorized")
	ErrBadVersion              = errors.New("znode: version mismatch")
	ErrNoChildrenForEphemerals = errors.New("znode: ephemeral nodes may not have children")
	ErrNodeExists              = errors.New("znode: node already exists")
	ErrNotEmpty                = errors.New("znode: directory not empty")
	ErrSessionExpired          = errors.New("znode: session expired")
	ErrInvalidACL              = errors.New("znode: invalid ACL")
	ErrAuthFailed              = errors.New("znode: authentication failed")
	ErrSessionMoved            = errors.New("znode: session moved")
	ErrNoWatcher               = errors.New("znode: no such watcher")
	ErrReconfigDisabled        = errors.New("znode: reconfig is disabled")
	ErrQuotaExceeded           = errors.New("znode: quota exceeded")
	ErrSystem                  = errors.New("znode: system error")
)
