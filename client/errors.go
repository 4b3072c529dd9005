package client

import (
	"errors"
	"fmt"

	"github.com/zkx-dev/zkx/pkg/proto"
	"github.com/zkx-dev/zkx/pkg/znode"
)

// Errors for the ZooKeeper error codes a server returns. They are the
// znode sentinels, so errors.Is(err, client.ErrNoNode) and errors.Is(err,
// znode.ErrNoNode) both hold, and proto.Code(err) gives the wire code.
// Errors returned by the client wrap them with the operation and path.
var (
	ErrRuntimeInconsistency    = znode.ErrRuntimeInconsistency
	ErrMarshalling             = znode.ErrMarshalling
	ErrUnimplemented           = znode.ErrUnimplemented
	ErrBadArguments            = znode.ErrBadArguments
	ErrNoNode                  = znode.ErrNoNode
	ErrNoAuth                  = znode.ErrNoAuth
	ErrBadVersion              = znode.ErrBadVersion
	ErrNoChildrenForEphemerals = znode.ErrNoChildrenForEphemerals
	ErrNodeExists              = znode.ErrNodeExists
	ErrNotEmpty                = znode.ErrNotEmpty
	ErrSessionExpired          = znode.ErrSessionExpired
	ErrInvalidACL              = znode.ErrInvalidACL
	ErrAuthFailed              = znode.ErrAuthFailed
	ErrSessionMoved            = znode.ErrSessionMoved
	ErrNoWatcher               = znode.ErrNoWatcher
	ErrReconfigDisabled        = znode.ErrReconfigDisabled
	ErrQuotaExceeded           = znode.ErrQuotaExceeded
	ErrSystem                  = znode.ErrSystem
)

// Client-side errors.
var (
	// ErrConnectionLoss: the connection broke while the request was sent
	// or queued. The request may or may not have been applied. proto.Code
	// maps it to ConnectionLoss (-4).
	ErrConnectionLoss = fmt.Errorf("client: connection lost: %w", &proto.CodeError{Code: proto.CodeConnectionLoss})
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client: closed")
)

// CodeError is the error for a server code that has no sentinel above
// (NotReadOnly, ThrottledOp, ...).
type CodeError = proto.CodeError

// opError wraps the error for a wire code with the operation and path.
func opError(op int32, path string, code int32) error {
	if code == proto.CodeOk {
		return nil
	}
	return wrapOp(op, path, proto.Error(code))
}

func wrapOp(op int32, path string, err error) error {
	if err == nil {
		return nil
	}
	if path == "" {
		return fmt.Errorf("client: %s: %w", proto.OpName(op), err)
	}
	return fmt.Errorf("client: %s %s: %w", proto.OpName(op), path, err)
}
