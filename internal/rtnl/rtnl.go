// Package rtnl is the little of rtnetlink(7) linux.netDevices needs: list
// a link's addresses, move a link into another network namespace, rename
// it, add an address, set it up. Each call opens its socket in the calling
// thread's network namespace, so the same code works on the host (the
// move) and on a thread or init inside the container (the rest).
package rtnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Addr is one interface address as the kernel reports it; Local and
// Address are IFA_LOCAL and IFA_ADDRESS (they differ on point-to-point
// links), kept as sent so they go back unchanged.
type Addr struct {
	Family    uint8  `json:"family"`
	PrefixLen uint8  `json:"prefixLen"`
	Flags     uint32 `json:"flags,omitempty"`
	Scope     uint8  `json:"scope,omitempty"`
	Local     []byte `json:"local,omitempty"`
	Address   []byte `json:"address,omitempty"`
}

// Kept reports whether a stays with its link across a move: the spec keeps
// permanent addresses of global scope (runtime-spec config-linux.md).
func (a *Addr) Kept() bool {
	return a.Flags&unix.IFA_F_PERMANENT != 0 && a.Scope == unix.RT_SCOPE_UNIVERSE
}

const hdrLen = unix.SizeofNlMsghdr

func align(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }

// msg builds one request: header, fixed part, attributes.
type msg struct{ b []byte }

func newMsg(typ, flags uint16, fixed []byte) *msg {
	m := &msg{b: make([]byte, hdrLen, 128)}
	binary.NativeEndian.PutUint16(m.b[4:], typ)
	binary.NativeEndian.PutUint16(m.b[6:], flags|unix.NLM_F_REQUEST)
	m.b = append(m.b, fixed...)
	return m
}

func (m *msg) attr(typ uint16, data []byte) {
	var h [4]byte
	binary.NativeEndian.PutUint16(h[0:], uint16(4+len(data)))
	binary.NativeEndian.PutUint16(h[2:], typ)
	m.b = append(m.b, h[:]...)
	m.b = append(m.b, data...)
	for len(m.b)%unix.NLMSG_ALIGNTO != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msg) bytes() []byte {
	binary.NativeEndian.PutUint32(m.b[0:], uint32(len(m.b)))
	return m.b
}

func ifinfo(index int, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(int32(index)))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func u32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}

// do sends one request and reads until its ack (or, for a dump, its
// end), handing every data message to each.
func do(req []byte, each func(typ uint16, body []byte) error) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 32<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		done, err := walk(buf[:n], each)
		if err != nil || done {
			return err
		}
	}
}

// walk goes through the messages of one datagram; done is true at the
// ack, an error or the end of a dump.
func walk(b []byte, each func(typ uint16, body []byte) error) (done bool, err error) {
	for len(b) >= hdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:]))
		typ := binary.NativeEndian.Uint16(b[4:])
		if l < hdrLen || l > len(b) {
			return true, errors.New("netlink: truncated message")
		}
		body := b[hdrLen:l]
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return true, errors.New("netlink: short error message")
			}
			if e := int32(binary.NativeEndian.Uint32(body)); e != 0 {
				return true, unix.Errno(-e)
			}
			return true, nil // the ack
		default:
			if each != nil {
				if err := each(typ, body); err != nil {
					return true, err
				}
			}
		}
		if al := align(l); al < len(b) {
			b = b[al:]
		} else {
			b = nil
		}
	}
	return false, nil
}

// attrs walks rtattrs.
func attrs(b []byte, fn func(typ uint16, data []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < 4 || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&^unix.NLA_F_NESTED, b[4:l])
		if al := align(l); al < len(b) {
			b = b[al:]
		} else {
			return
		}
	}
}

// parseAddr reads one RTM_NEWADDR body; ok is false when it is not for
// index.
func parseAddr(body []byte, index int) (a Addr, ok bool) {
	if len(body) < unix.SizeofIfAddrmsg {
		return a, false
	}
	if int(int32(binary.NativeEndian.Uint32(body[4:]))) != index {
		return a, false
	}
	a = Addr{Family: body[0], PrefixLen: body[1], Flags: uint32(body[2]), Scope: body[3]}
	attrs(body[unix.SizeofIfAddrmsg:], func(typ uint16, data []byte) {
		switch typ {
		case unix.IFA_LOCAL:
			a.Local = append([]byte(nil), data...)
		case unix.IFA_ADDRESS:
			a.Address = append([]byte(nil), data...)
		case unix.IFA_FLAGS: // the full 32-bit flags
			if len(data) == 4 {
				a.Flags = binary.NativeEndian.Uint32(data)
			}
		}
	})
	return a, true
}

// Addrs lists the addresses of link index.
func Addrs(index int) ([]Addr, error) {
	m := newMsg(unix.RTM_GETADDR, unix.NLM_F_DUMP, make([]byte, unix.SizeofIfAddrmsg))
	var out []Addr
	err := do(m.bytes(), func(typ uint16, body []byte) error {
		if typ == unix.RTM_NEWADDR {
			if a, ok := parseAddr(body, index); ok {
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}

// MoveToPid moves link index into the network namespace of pid, named
// name there (a name with %d lets the kernel pick the number).
func MoveToPid(index, pid int, name string) error {
	m := newMsg(unix.RTM_NEWLINK, unix.NLM_F_ACK, ifinfo(index, 0, 0))
	m.attr(unix.IFLA_NET_NS_PID, u32(uint32(pid)))
	m.attr(unix.IFLA_IFNAME, cstr(name))
	return do(m.bytes(), nil)
}

// Rename renames link index (it must be down).
func Rename(index int, name string) error {
	m := newMsg(unix.RTM_NEWLINK, unix.NLM_F_ACK, ifinfo(index, 0, 0))
	m.attr(unix.IFLA_IFNAME, cstr(name))
	return do(m.bytes(), nil)
}

// Up sets link index up.
func Up(index int) error {
	m := newMsg(unix.RTM_NEWLINK, unix.NLM_F_ACK, ifinfo(index, unix.IFF_UP, unix.IFF_UP))
	return do(m.bytes(), nil)
}

// AddAddr adds a to link index.
func AddAddr(index int, a Addr) error {
	fixed := make([]byte, unix.SizeofIfAddrmsg)
	fixed[0], fixed[1], fixed[2], fixed[3] = a.Family, a.PrefixLen, uint8(a.Flags), a.Scope
	binary.NativeEndian.PutUint32(fixed[4:], uint32(int32(index)))
	m := newMsg(unix.RTM_NEWADDR, unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL, fixed)
	if a.Local != nil {
		m.attr(unix.IFA_LOCAL, a.Local)
	}
	if a.Address != nil {
		m.attr(unix.IFA_ADDRESS, a.Address)
	}
	m.attr(unix.IFA_FLAGS, u32(a.Flags))
	return do(m.bytes(), nil)
}

// Index is the index of the link named name in the calling thread's
// network namespace.
func Index(name string) (int, error) {
	m := newMsg(unix.RTM_GETLINK, unix.NLM_F_ACK, ifinfo(0, 0, 0))
	m.attr(unix.IFLA_IFNAME, cstr(name))
	index := 0
	err := do(m.bytes(), func(typ uint16, body []byte) error {
		if typ == unix.RTM_NEWLINK && len(body) >= unix.SizeofIfInfomsg {
			index = int(int32(binary.NativeEndian.Uint32(body[4:])))
		}
		return nil
	})
	if err == nil && index == 0 {
		err = unix.ENODEV
	}
	return index, err
}

// Name is the name of link index.
func Name(index int) (string, error) {
	m := newMsg(unix.RTM_GETLINK, unix.NLM_F_ACK, ifinfo(index, 0, 0))
	name := ""
	err := do(m.bytes(), func(typ uint16, body []byte) error {
		if typ == unix.RTM_NEWLINK && len(body) >= unix.SizeofIfInfomsg {
			attrs(body[unix.SizeofIfInfomsg:], func(t uint16, data []byte) {
				if t == unix.IFLA_IFNAME {
					name = strings.TrimRight(string(data), "\x00")
				}
			})
		}
		return nil
	})
	return name, err
}
