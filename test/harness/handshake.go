package harness

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// Handshake opens a ZooKeeper session on addr with a raw ConnectRequest, checks that the
// server granted it (non-zero session id and timeout), and closes the session again. It is
// the readiness probe for zkx and is independent of any client library.
func Handshake(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))

	// ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (buffer).
	// Like go-zookeeper it omits the optional trailing readOnly byte.
	req := make([]byte, 0, 48)
	req = binary.BigEndian.AppendUint32(req, 0)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 4000)
	req = binary.BigEndian.AppendUint64(req, 0)
	req = binary.BigEndian.AppendUint32(req, 16)
	req = append(req, make([]byte, 16)...)
	if err := writeFrame(c, req); err != nil {
		return fmt.Errorf("send ConnectRequest: %w", err)
	}
	resp, err := readFrame(c, 1<<16)
	if err != nil {
		return fmt.Errorf("read ConnectResponse: %w", err)
	}
	// ConnectResponse: protocolVersion int32, timeOut int32, sessionId int64, passwd buffer.
	if len(resp) < 20 {
		return fmt.Errorf("short ConnectResponse (%d bytes)", len(resp))
	}
	timeOut := int32(binary.BigEndian.Uint32(resp[4:8]))
	sessionID := int64(binary.BigEndian.Uint64(resp[8:16]))
	if sessionID == 0 || timeOut <= 0 {
		return fmt.Errorf("session refused (id=%#x timeout=%d)", sessionID, timeOut)
	}

	// closeSession: RequestHeader{xid=1, type=-11}, no body; the reply is a ReplyHeader.
	closeReq := binary.BigEndian.AppendUint32(nil, 1)
	closeReq = binary.BigEndian.AppendUint32(closeReq, uint32(0xFFFFFFF5)) // -11
	if err := writeFrame(c, closeReq); err != nil {
		return fmt.Errorf("send closeSession: %w", err)
	}
	reply, err := readFrame(c, 1<<16)
	if err != nil {
		return fmt.Errorf("read closeSession reply: %w", err)
	}
	if len(reply) < 16 {
		return fmt.Errorf("short closeSession reply (%d bytes)", len(reply))
	}
	if code := int32(binary.BigEndian.Uint32(reply[12:16])); code != 0 {
		return fmt.Errorf("closeSession failed with code %d", code)
	}
	return nil
}

func writeFrame(w io.Writer, payload []byte) error {
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(payload)), uint32(len(payload)))
	_, err := w.Write(append(frame, payload...))
	return err
}

func readFrame(r io.Reader, max int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if n < 0 || int(n) > max {
		return nil, fmt.Errorf("frame length %d out of range", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}
