/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parsers of the /proc text the system collector reads (pure: text in,
 * structs out, no syscalls; tests/unit/test_system.c feeds them fake
 * files). Each returns 0 or -EINVAL when the text is not what the kernel
 * writes there; fields a kernel does not have stay 0.
 */
#ifndef DISCO_SYSTEM_PARSE_H
#define DISCO_SYSTEM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The modes of a /proc/stat cpu line, node_exporter's names. */
enum sys_cpu_mode {
	SYS_USER, SYS_NICE, SYS_SYSTEM, SYS_IDLE, SYS_IOWAIT, SYS_IRQ, SYS_SOFTIRQ, SYS_STEAL,
	SYS_CPU_MODES
};
extern const char *const sys_cpu_mode_names[SYS_CPU_MODES];

struct sys_cpu {
	unsigned int cpu;
	uint64_t ticks[SYS_CPU_MODES];	/* USER_HZ ticks; guest time is inside user/nice */
};

struct sys_stat {
	struct sys_cpu *cpus;		/* caller's array of cap entries */
	size_t cap, ncpu;
	uint64_t ctxt, forks, intr;
	uint64_t procs_running, procs_blocked;
};

/* /proc/meminfo, in bytes. */
struct sys_mem {
	uint64_t total, free, available, buffers, cached, sreclaimable, shmem;
	uint64_t swap_total, swap_free;
};

/* /proc/vmstat counters, in pages (pswp*) and events. */
struct sys_vmstat {
	uint64_t pswpin, pswpout, pgmajfault;
};

/* One /proc/diskstats line; sectors are 512 bytes whatever the disk's. */
struct sys_disk {
	char name[32];
	uint64_t reads, reads_merged, read_sectors, read_ms;
	uint64_t writes, writes_merged, write_sectors, write_ms;
	uint64_t in_flight, io_ms, io_weighted_ms;
	uint64_t discards, discard_sectors, discard_ms;	/* 4.18+ */
	uint64_t flushes, flush_ms;			/* 5.5+ */
};

/* One /proc/net/dev line. */
struct sys_netdev {
	char name[32];
	uint64_t rx_bytes, rx_packets, rx_errs, rx_drop;
	uint64_t tx_bytes, tx_packets, tx_errs, tx_drop;
};

/* TCP socket states as /proc/net/tcp numbers them (1 = ESTABLISHED ... 12). */
#define SYS_TCP_STATES 13
extern const char *const sys_tcp_state_names[SYS_TCP_STATES];

/* A /proc/pressure/ or cgroup *.pressure file: the total= fields, in µs. */
struct sys_psi {
	uint64_t some_us, full_us;
	bool has_full;
};

int sys_parse_stat(const char *text, struct sys_stat *st);
int sys_parse_loadavg(const char *text, double load[3]);
int sys_parse_meminfo(const char *text, struct sys_mem *m);
int sys_parse_vmstat(const char *text, struct sys_vmstat *v);
/* Fills up to cap disks (in file order) into d, *n the number filled. */
int sys_parse_diskstats(const char *text, struct sys_disk *d, size_t cap, size_t *n);
int sys_parse_netdev(const char *text, struct sys_netdev *d, size_t cap, size_t *n);
/* Adds the sockets of a /proc/net/tcp or tcp6 text to counts[state]. */
int sys_parse_tcp_states(const char *text, uint64_t counts[SYS_TCP_STATES]);
int sys_parse_psi(const char *text, struct sys_psi *p);

#endif
