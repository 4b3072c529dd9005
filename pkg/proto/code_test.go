package proto

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zkx-dev/zkx/pkg/znode"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int32
	}{
		{"nil", nil, CodeOk},
		{"ErrRuntimeInconsistency", znode.ErrRuntimeInconsistency, CodeRuntimeInconsistency},
		{"ErrMarshalling", znode.ErrMarshalling, CodeMarshallingError},
		{"ErrUnimplemented", znode.ErrUnimplemented, CodeUnimplemented},
		{"ErrBadArguments", znode.ErrBadArguments, CodeBadArguments},
		{"ErrNoNode", znode.ErrNoNode, CodeNoNode},
		{"ErrNoAuth", znode.ErrNoAuth, CodeNoAuth},
		{"ErrBadVersion", znode.ErrBadVersion, CodeBadVersion},
		{"ErrNoChildrenForEphemerals", znode.ErrNoChildrenForEphemerals, CodeNoChildrenForEphemerals},
		{"ErrNodeExists", znode.ErrNodeExists, CodeNodeExists},
		{"ErrNotEmpty", znode.ErrNotEmpty, CodeNotEmpty},
		{"ErrSessionExpired", znode.ErrSessionExpired, CodeSessionExpired},
		{"ErrInvalidACL", znode.ErrInvalidACL, CodeInvalidACL},
		{"ErrAuthFailed", znode.ErrAuthFailed, CodeAuthFailed},
		{"ErrSessionMoved", znode.ErrSessionMoved, CodeSessionMoved},
		{"ErrNoWatcher", znode.ErrNoWatcher, CodeNoWatcher},
		{"ErrReconfigDisabled", znode.ErrReconfigDisabled, CodeReconfigDisabled},
		{"ErrQuotaExceeded", znode.ErrQuotaExceeded, CodeQuotaExceeded},
		{"ErrSystem", znode.ErrSystem, CodeSystemError},
		{"wrapped sentinel", fmt.Errorf("tree: delete /a: %w", znode.ErrNotEmpty), CodeNotEmpty},
		{"path validation error", znode.ValidatePath("a"), CodeBadArguments},
		{"decode error", NewDecoder(nil).errAfterInt32(), CodeMarshallingError},
		{"CodeError", &CodeError{Code: CodeThrottledOp}, CodeThrottledOp},
		{"wrapped CodeError", fmt.Errorf("x: %w", &CodeError{Code: CodeNotReadOnly}), CodeNotReadOnly},
		{"CodeError with code 0 is still an error", &CodeError{Code: 0}, CodeSystemError},
		{"unknown error", errors.New("disk on fire"), CodeSystemError},
		{"context error", context.DeadlineExceeded, CodeSystemError},
		{"frame error", &FrameTooLargeError{Len: -1, Max: 1}, CodeSystemError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Code(tc.err); got != tc.want {
				t.Errorf("Code(%v) = %d (%s), want %d (%s)", tc.err, got, CodeName(got), tc.want, CodeName(tc.want))
			}
		})
	}
}

// errAfterInt32 returns the error of reading an int from d.
func (d *Decoder) errAfterInt32() error {
	d.Int32()
	return d.Err()
}

func TestErrorRoundTrip(t *testing.T) {
	for code := range codeNames {
		err := Error(code)
		if code == CodeOk {
			if err != nil {
				t.Errorf("Error(0) = %v, want nil", err)
			}
			continue
		}
		if got := Code(err); got != code {
			t.Errorf("Code(Error(%d)) = %d", code, got)
		}
	}
	if !errors.Is(Error(CodeNoNode), znode.ErrNoNode) {
		t.Error("Error(CodeNoNode) is not znode.ErrNoNode")
	}
	var ce *CodeError
	if err := Error(-999); !errors.As(err, &ce) || ce.Code != -999 || err.Error() != "proto: Code(-999)" {
		t.Errorf("Error(-999) = %v", err)
	}
}

func TestCodeName(t *testing.T) {
	tests := []struct {
		code int32
		want string
	}{
		{CodeOk, "OK"},
		{CodeSystemError, "SystemError"},
		{CodeNoNode, "NoNode"},
		{CodeNodeExists, "NodeExists"},
		{CodeNoWatcher, "NoWatcher"},
		{CodeThrottledOp, "ThrottledOp"},
		{-104, "Code(-104)"},
	}
	for _, tc := range tests {
		if got := CodeName(tc.code); got != tc.want {
			t.Errorf("CodeName(%d) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestOpNameAndTag(t *testing.T) {
	tests := []struct {
		op        int32
		name, tag string
	}{
		{OpNotification, "notification", "UNKN"},
		{OpCreate, "create", "CREA"},
		{OpDelete, "delete", "DELE"},
		{OpExists, "exists", "EXIS"},
		{OpGetData, "getData", "GETD"},
		{OpSetData, "setData", "SETD"},
		{OpGetACL, "getACL", "GETA"},
		{OpSetACL, "setACL", "SETA"},
		{OpGetChildren, "getChildren", "GETC"},
		{OpSync, "sync", "SYNC"},
		{OpPing, "ping", "PING"},
		{OpGetChildren2, "getChildren2", "GETC"},
		{OpCheck, "check", "CHEC"},
		{OpMulti, "multi", "MULT"},
		{OpCreate2, "create2", "CREA"},
		{OpReconfig, "reconfig", "RECO"},
		{OpCheckWatches, "checkWatches", "CHKW"},
		{OpRemoveWatches, "removeWatches", "REMW"},
		{OpCreateContainer, "createContainer", "CREA"},
		{OpDeleteContainer, "deleteContainer", "DELE"},
		{OpCreateTTL, "createTTL", "CREA"},
		{OpMultiRead, "multiRead", "MLTR"},
		{OpAuth, "auth", "AUTH"},
		{OpSetWatches, "setWatches", "SETW"},
		{OpSASL, "sasl", "SASL"},
		{OpGetEphemerals, "getEphemerals", "GETE"},
		{OpGetAllChildrenNumber, "getAllChildrenNumber", "GETACN"},
		{OpSetWatches2, "setWatches2", "STW2"},
		{OpAddWatch, "addWatch", "ADDW"},
		{OpWhoAmI, "whoAmI", "HOMI"},
		{OpCreateSession, "createSession", "SESS"},
		{OpCloseSession, "closeSession", "CLOS"},
		{OpError, "error", "UNKN"},
		{42, "unknown(42)", "UNKN"},
	}
	for _, tc := range tests {
		if got := OpName(tc.op); got != tc.name {
			t.Errorf("OpName(%d) = %q, want %q", tc.op, got, tc.name)
		}
		if got := OpTag(tc.op); got != tc.tag {
			t.Errorf("OpTag(%d) = %q, want %q", tc.op, got, tc.tag)
		}
	}
}
