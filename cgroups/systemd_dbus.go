package cgroups

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// Bounds for talking to systemd: a call, and a start or stop job.
const (
	busTimeout = 10 * time.Second
	jobTimeout = 30 * time.Second
)

// systemdBus is a connection to PID 1's systemd manager.
type systemdBus struct {
	conn *sd.Conn
}

// connectSystemd prefers systemd's private socket (/run/systemd/private:
// root only, needs no dbus-daemon) and falls back to the system bus.
// godbus closes a connection when its context ends, so the connection
// gets none and the wait for it is bounded here instead.
func connectSystemd() (*systemdBus, error) {
	type result struct {
		c   *sd.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ctx := context.Background()
		c, err := sd.NewSystemdConnectionContext(ctx)
		if err == nil {
			ch <- result{c, nil}
			return
		}
		c, err2 := sd.NewSystemConnectionContext(ctx)
		if err2 != nil {
			err = fmt.Errorf("systemd cgroup driver: connect to systemd: /run/systemd/private: %v; system bus: %w", err, err2)
		} else {
			err = nil
		}
		ch <- result{c, err}
	}()
	t := time.NewTimer(busTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		return &systemdBus{conn: r.c}, nil
	case <-t.C:
		// A connection made after we gave up would stay open.
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("systemd cgroup driver: connect to systemd: no answer after %v", busTimeout)
	}
}

func toDBus(props []unitProp) []sd.Property {
	out := make([]sd.Property, len(props))
	for i, p := range props {
		out[i] = sd.Property{Name: p.Name, Value: godbus.MakeVariant(p.Value)}
	}
	return out
}

func dbusErrName(err error) string {
	var e godbus.Error
	if errors.As(err, &e) {
		return e.Name
	}
	var pe *godbus.Error
	if errors.As(err, &pe) && pe != nil {
		return pe.Name
	}
	return ""
}

// startUnit starts a transient unit and waits for its job. started runs
// once systemd has accepted the job: from then on the unit exists (even
// if the job later fails or times out) and must be stopped on rollback.
func (b *systemdBus) startUnit(unit string, props []unitProp, started func()) error {
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	ch := make(chan string, 1)
	if _, err := b.conn.StartTransientUnitContext(ctx, unit, "replace", toDBus(props), ch); err != nil {
		if dbusErrName(err) == "org.freedesktop.systemd1.UnitExists" {
			return fmt.Errorf("systemd cgroup driver: unit %s already exists (is the cgroupsPath used by another container?)", unit)
		}
		return fmt.Errorf("systemd cgroup driver: start unit %s: %w", unit, err)
	}
	started()
	return waitJob(ch, "start", unit)
}

func waitJob(ch <-chan string, op, unit string) error {
	t := time.NewTimer(jobTimeout)
	defer t.Stop()
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("systemd cgroup driver: %s unit %s: job %s", op, unit, res)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("systemd cgroup driver: %s unit %s: job not finished after %v", op, unit, jobTimeout)
	}
}

// stopUnit stops unit and clears a failed state; a unit that is not
// loaded is already what we want.
func (b *systemdBus) stopUnit(unit string) error {
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	ch := make(chan string, 1)
	if _, err := b.conn.StopUnitContext(ctx, unit, "replace", ch); err != nil {
		if dbusErrName(err) == "org.freedesktop.systemd1.NoSuchUnit" {
			return nil
		}
		return fmt.Errorf("systemd cgroup driver: stop unit %s: %w", unit, err)
	}
	if err := waitJob(ch, "stop", unit); err != nil {
		return err
	}
	// A failed unit stays loaded until reset; the error only says it was not failed.
	_ = b.conn.ResetFailedUnitContext(ctx, unit)
	return nil
}

func (b *systemdBus) setProps(unit string, props []unitProp) error {
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	if err := b.conn.SetUnitPropertiesContext(ctx, unit, true, toDBus(props)...); err != nil {
		names := make([]string, len(props))
		for i, p := range props {
			names[i] = p.Name
		}
		return fmt.Errorf("systemd cgroup driver: set %s on unit %s: %w", strings.Join(names, ","), unit, err)
	}
	return nil
}

// version is systemd's major version, 0 when unknown.
func (b *systemdBus) version() int {
	s, err := b.conn.GetManagerProperty("Version")
	if err != nil {
		return 0
	}
	return parseSystemdVersion(s)
}

// parseSystemdVersion reads the major number out of the Version property
// as GVariant text: `"252.39-1~deb12u2"`, `"v245"` or `"249"`.
func parseSystemdVersion(s string) int {
	s = strings.TrimPrefix(strings.Trim(s, `"`), "v")
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end >= 0 {
		s = s[:end]
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return v
}
