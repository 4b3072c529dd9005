package notifier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zkx-dev/zkx/sdk/notifier/internal/pb"
)

// ProtocolVersion is the version of the host-plugin protocol this SDK
// speaks. zkx and a plugin must agree on it; it changes only when a change
// to the messages would be misread by an older peer.
const ProtocolVersion = 1

// PluginName is the name under which the notifier interface is served.
const PluginName = "notifier"

// Handshake is the go-plugin handshake shared by zkx and every notifier
// plugin. The magic cookie only keeps a plugin binary from being started by
// hand by mistake (it then prints a message and exits); it is not a
// security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ZKX_NOTIFIER_PLUGIN",
	MagicCookieValue: "b4a6f1c0-notifier-zkx",
}

// ErrUnimplemented is returned by Client's Configure and Health when the
// plugin does not implement that capability.
var ErrUnimplemented = errors.New("notifier: capability not implemented by the plugin")

// Serve runs impl as a notifier plugin until the host ends it. Call it
// from main; it does not return. Logs of the plugin go to stderr.
func Serve(impl Notifier) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			ProtocolVersion: {PluginName: &Plugin{Impl: impl}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:   "notifier",
			Output: os.Stderr,
			Level:  hclog.Warn,
		}),
	})
}

// Plugin binds the Notifier interface to go-plugin's gRPC transport. A
// plugin author never uses it directly (Serve does); a host puts it in its
// plugin set, and dispensing it yields a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's implementation; only the plugin side sets it.
	Impl Notifier
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers Impl on the plugin's gRPC server.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("notifier: Plugin.Impl is nil")
	}
	pb.RegisterNotifierServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client speaking to the plugin over conn.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn), nil
}

// server adapts a Notifier to the generated gRPC service.
type server struct {
	pb.UnimplementedNotifierServer
	impl Notifier
}

func (s *server) Notify(ctx context.Context, req *pb.NotifyRequest) (*pb.NotifyResponse, error) {
	events := make([]Event, len(req.GetEvents()))
	for i, e := range req.GetEvents() {
		events[i] = fromProto(e)
	}
	if err := s.impl.Notify(ctx, events); err != nil {
		return nil, implError(ctx, codes.Unknown, err)
	}
	return &pb.NotifyResponse{}, nil
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	c, ok := s.impl.(Configurer)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "plugin does not implement Configurer")
	}
	cfg := Config{
		Name:        req.GetName(),
		Paths:       req.GetPaths(),
		Events:      req.GetEvents(),
		IncludeData: req.GetIncludeData(),
	}
	if err := c.Configure(ctx, cfg); err != nil {
		return nil, implError(ctx, codes.InvalidArgument, err)
	}
	return &pb.ConfigureResponse{}, nil
}

func (s *server) Health(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	h, ok := s.impl.(HealthChecker)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "plugin does not implement HealthChecker")
	}
	if err := h.Health(ctx); err != nil {
		return nil, implError(ctx, codes.Unavailable, err)
	}
	return &pb.HealthResponse{}, nil
}

// implError is the status of a call whose implementation returned err.
// When the call's context has ended (the host's deadline passed, or the
// host gave up on the call) it is that, not the plugin's error: the
// plugin's side holds the same deadline a moment after the host, so its
// answer can reach the host before the host has noticed its own timer,
// and a plugin that returns ctx.Err() must still read as a deadline there,
// not as a plugin that refused the batch or its configuration.
func implError(ctx context.Context, code codes.Code, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return status.FromContextError(ctxErr).Err()
	}
	return status.Error(code, err.Error())
}

// Client is the host's side of a plugin connection. Its methods are safe
// for concurrent use.
type Client struct {
	c pb.NotifierClient
}

// NewClient returns a Client speaking the notifier protocol over conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: pb.NewNotifierClient(conn)}
}

// Notify sends one batch and waits for the plugin's acknowledgement.
func (c *Client) Notify(ctx context.Context, events []Event) error {
	req := &pb.NotifyRequest{Events: make([]*pb.Event, len(events))}
	for i, e := range events {
		req.Events[i] = toProto(e)
	}
	_, err := c.c.Notify(ctx, req)
	return callError(err)
}

// Configure sends the plugin its configuration. It returns
// ErrUnimplemented when the plugin is not a Configurer.
func (c *Client) Configure(ctx context.Context, cfg Config) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{
		Name:        cfg.Name,
		Paths:       cfg.Paths,
		Events:      cfg.Events,
		IncludeData: cfg.IncludeData,
	})
	return callError(err)
}

// Health asks the plugin for its health. It returns ErrUnimplemented when
// the plugin is not a HealthChecker.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.c.Health(ctx, &pb.HealthRequest{})
	return callError(err)
}

// PluginError is an error the plugin's own code returned, as opposed to a
// failure to reach the plugin (a crashed process, a timeout).
type PluginError struct {
	Msg string
}

func (e *PluginError) Error() string { return e.Msg }

// callError turns a gRPC error into ErrUnimplemented, a *PluginError for
// errors the plugin's code returned, or the transport error itself.
func callError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unimplemented:
		return ErrUnimplemented
	case codes.Unknown, codes.InvalidArgument:
		return &PluginError{Msg: st.Message()}
	case codes.DeadlineExceeded:
		// The caller's deadline, possibly enforced by the plugin's side
		// a moment before the caller's own timer fired.
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, st.Message())
	case codes.Unavailable:
		// Health's answer uses Unavailable too; a transport failure
		// carries gRPC's own wording, which still reads as an error.
		return err
	}
	return err
}

func toProto(e Event) *pb.Event {
	out := &pb.Event{
		Type:     pb.EventType(typeToProto(e.Type)),
		Path:     e.Path,
		Zxid:     e.Zxid,
		Version:  e.Version,
		HasData:  e.HasData,
		GapStart: e.GapStart,
		GapEnd:   e.GapEnd,
	}
	if !e.Time.IsZero() {
		out.TimeMs = e.Time.UnixMilli()
	}
	if e.HasData {
		out.Data = e.Data
	}
	return out
}

func fromProto(e *pb.Event) Event {
	out := Event{
		Type:     typeFromProto(e.GetType()),
		Path:     e.GetPath(),
		Zxid:     e.GetZxid(),
		Version:  e.GetVersion(),
		HasData:  e.GetHasData(),
		GapStart: e.GetGapStart(),
		GapEnd:   e.GetGapEnd(),
	}
	if e.GetTimeMs() != 0 {
		out.Time = time.UnixMilli(e.GetTimeMs())
	}
	if out.HasData {
		out.Data = e.GetData()
		if out.Data == nil {
			out.Data = []byte{}
		}
	}
	return out
}

func typeToProto(t EventType) pb.EventType {
	switch t {
	case EventCreated:
		return pb.EventType_EVENT_TYPE_CREATED
	case EventDeleted:
		return pb.EventType_EVENT_TYPE_DELETED
	case EventDataChanged:
		return pb.EventType_EVENT_TYPE_DATA_CHANGED
	case EventChildrenChanged:
		return pb.EventType_EVENT_TYPE_CHILDREN_CHANGED
	case EventGap:
		return pb.EventType_EVENT_TYPE_GAP
	}
	return pb.EventType_EVENT_TYPE_UNSPECIFIED
}

func typeFromProto(t pb.EventType) EventType {
	switch t {
	case pb.EventType_EVENT_TYPE_CREATED:
		return EventCreated
	case pb.EventType_EVENT_TYPE_DELETED:
		return EventDeleted
	case pb.EventType_EVENT_TYPE_DATA_CHANGED:
		return EventDataChanged
	case pb.EventType_EVENT_TYPE_CHILDREN_CHANGED:
		return EventChildrenChanged
	case pb.EventType_EVENT_TYPE_GAP:
		return EventGap
	}
	return EventType(0)
}
