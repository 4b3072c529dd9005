package proto

import (
	"errors"
	"strconv"

	"github.com/zkx-dev/zkx/pkg/znode"
)

// ZooKeeper error codes (KeeperException.Code), as carried in
// ReplyHeader.Err and in multi ErrorResults. They are named CodeXxx so they
// do not read as Go error values.
const (
	CodeOk                           int32 = 0
	CodeSystemError                  int32 = -1
	CodeRuntimeInconsistency         int32 = -2
	CodeDataInconsistency            int32 = -3
	CodeConnectionLoss               int32 = -4
	CodeMarshallingError             int32 = -5
	CodeUnimplemented                int32 = -6
	CodeOperationTimeout             int32 = -7
	CodeBadArguments                 int32 = -8
	CodeUnknownSession               int32 = -12
	CodeNewConfigNoQuorum            int32 = -13
	CodeReconfigInProgress           int32 = -14
	CodeAPIError                     int32 = -100
	CodeNoNode                       int32 = -101
	CodeNoAuth                       int32 = -102
	CodeBadVersion                   int32 = -103
	CodeNoChildrenForEphemerals      int32 = -108
	CodeNodeExists                   int32 = -110
	CodeNotEmpty                     int32 = -111
	CodeSessionExpired               int32 = -112
	CodeInvalidCallback              int32 = -113
	CodeInvalidACL                   int32 = -114
	CodeAuthFailed                   int32 = -115
	CodeSessionMoved                 int32 = -118
	CodeNotReadOnly                  int32 = -119
	CodeEphemeralOnLocalSession      int32 = -120
	CodeNoWatcher                    int32 = -121
	CodeRequestTimeout               int32 = -122
	CodeReconfigDisabled             int32 = -123
	CodeSessionClosedRequireSASLAuth int32 = -124
	CodeQuotaExceeded                int32 = -125
	CodeThrottledOp                  int32 = -127
)

// sentinels pairs each znode error sentinel with its wire code. Code
// scans it in order, so an error matching several sentinels (errors.Join)
// gets the first one listed.
var sentinels = []struct {
	err  error
	code int32
}{
	{znode.ErrNoNode, CodeNoNode},
	{znode.ErrNodeExists, CodeNodeExists},
	{znode.ErrBadVersion, CodeBadVersion},
	{znode.ErrNotEmpty, CodeNotEmpty},
	{znode.ErrNoAuth, CodeNoAuth},
	{znode.ErrNoChildrenForEphemerals, CodeNoChildrenForEphemerals},
	{znode.ErrInvalidACL, CodeInvalidACL},
	{znode.ErrBadArguments, CodeBadArguments},
	{znode.ErrNoWatcher, CodeNoWatcher},
	{znode.ErrMarshalling, CodeMarshallingError},
	{znode.ErrUnimplemented, CodeUnimplemented},
	{znode.ErrRuntimeInconsistency, CodeRuntimeInconsistency},
	{znode.ErrSessionExpired, CodeSessionExpired},
	{znode.ErrSessionMoved, CodeSessionMoved},
	{znode.ErrAuthFailed, CodeAuthFailed},
	{znode.ErrReconfigDisabled, CodeReconfigDisabled},
	{znode.ErrQuotaExceeded, CodeQuotaExceeded},
	{znode.ErrSystem, CodeSystemError},
}

// CodeError is an error for a wire code that has no znode sentinel, such
// as a client-side code received from a peer or an unknown future code.
type CodeError struct {
	Code int32
}

func (e *CodeError) Error() string { return "proto: " + CodeName(e.Code) }

// Code returns the ZooKeeper error code for err. It is the one place that
// maps errors to codes: nil is CodeOk, an error wrapping a znode sentinel
// (errors.Is) gets that sentinel's code, a *CodeError its own code, and
// anything else CodeSystemError, which the Java client raises as
// SystemErrorException.
func Code(err error) int32 {
	if err == nil {
		return CodeOk
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	var ce *CodeError
	if errors.As(err, &ce) && ce.Code != CodeOk {
		return ce.Code
	}
	return CodeSystemError
}

// Error returns the Go error for a wire code: nil for CodeOk, the znode
// sentinel when one exists, otherwise a *CodeError. Code(Error(c)) == c for
// every code.
func Error(code int32) error {
	if code == CodeOk {
		return nil
	}
	for _, s := range sentinels {
		if s.code == code {
			return s.err
		}
	}
	return &CodeError{Code: code}
}

var codeNames = map[int32]string{
	CodeOk:                           "OK",
	CodeSystemError:                  "SystemError",
	CodeRuntimeInconsistency:         "RuntimeInconsistency",
	CodeDataInconsistency:            "DataInconsistency",
	CodeConnectionLoss:               "ConnectionLoss",
	CodeMarshallingError:             "MarshallingError",
	CodeUnimplemented:                "Unimplemented",
	CodeOperationTimeout:             "OperationTimeout",
	CodeBadArguments:                 "BadArguments",
	CodeUnknownSession:               "UnknownSession",
	CodeNewConfigNoQuorum:            "NewConfigNoQuorum",
	CodeReconfigInProgress:           "ReconfigInProgress",
	CodeAPIError:                     "APIError",
	CodeNoNode:                       "NoNode",
	CodeNoAuth:                       "NoAuth",
	CodeBadVersion:                   "BadVersion",
	CodeNoChildrenForEphemerals:      "NoChildrenForEphemerals",
	CodeNodeExists:                   "NodeExists",
	CodeNotEmpty:                     "NotEmpty",
	CodeSessionExpired:               "SessionExpired",
	CodeInvalidCallback:              "InvalidCallback",
	CodeInvalidACL:                   "InvalidACL",
	CodeAuthFailed:                   "AuthFailed",
	CodeSessionMoved:                 "SessionMoved",
	CodeNotReadOnly:                  "NotReadOnly",
	CodeEphemeralOnLocalSession:      "EphemeralOnLocalSession",
	CodeNoWatcher:                    "NoWatcher",
	CodeRequestTimeout:               "RequestTimeout",
	CodeReconfigDisabled:             "ReconfigDisabled",
	CodeSessionClosedRequireSASLAuth: "SessionClosedRequireSaslAuth",
	CodeQuotaExceeded:                "QuotaExceeded",
	CodeThrottledOp:                  "ThrottledOp",
}

// CodeName returns the name of a code ("NoNode", "BadVersion", ...), or
// "Code(N)" for a code ZooKeeper does not define.
func CodeName(code int32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return "Code(" + strconv.Itoa(int(code)) + ")"
}
