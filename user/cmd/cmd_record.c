// SPDX-License-Identifier: GPL-2.0
/* disco record: run collectors into a session file, then summarize it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include "caps.h"
#include "cmd.h"
#include "collector.h"
#include "log.h"
#include "record_opts.h"
#include "recorder.h"
#include "report.h"
#include "safepath.h"
#include "timeline.h"
#include "clock.h"

const char usage_record[] =
"usage: disco record [-e LIST] [-p PID]... [--cgroup PATH] [--comm NAME]\n"
"                    [-d SECS] [-i SECS [-n COUNT]] [-o FILE] [-f] [-q] [-u USER]\n"
"                    [-- COMMAND ARGS]\n"
"\n"
"Record a profiling session until the duration ends, COMMAND exits, the -p\n"
"processes exit, or SIGINT/SIGTERM; then print the text summary. Needs root.\n"
"With -- COMMAND, only COMMAND and the processes it starts are recorded\n"
"(add -a for the whole machine); if -d ends first, COMMAND is sent SIGTERM.\n"
"\n"
"Options:\n"
"  -e, --event LIST        collectors (default: all default ones: see `disco check`)\n"
"  -p, --pid PID           only this process (repeatable)\n"
"      --cgroup PATH       only tasks in this cgroup v2 directory\n"
"      --comm NAME         only tasks with this command name\n"
"  -a, --system-wide       with COMMAND: record every process, not just COMMAND\n"
"  -d, --duration TIME     stop after TIME (10, 500ms, 2m; bare number = seconds)\n"
"  -i, --interval TIME     print one line per collector every TIME (timestamped,\n"
"                          like runqlat -T 1); the file keeps every interval for\n"
"                          `disco report --intervals`\n"
"  -n, --count COUNT       with -i: stop after COUNT intervals\n"
"      --min-latency TIME  outlier threshold (default 10ms)\n"
"  -F, --freq HZ           sampling frequency of -e cpu, per CPU (default 49)\n"
"  -o, --output FILE       session file (default disco.data), created 0600; refused\n"
"                          below a symlink owned by neither root nor you\n"
"  -f, --force             overwrite FILE if it exists (never through a symlink)\n"
"  -q, --quiet             no live status and no summary at the end\n"
"  -j, --json              the summary as JSON (disco.report/1) on stdout, even with -q\n"
"  -u, --user USER         run COMMAND as USER instead of root\n"
"      --ring-size BYTES   events ring shared by the collectors (power of 2, default 4 MiB;\n"
"                          512 KiB for cpu and offcpu alone)\n"
"      --bpf-stats MODE    what each BPF program costs: sampled (default: kernel\n"
"                          statistics on 1 s in every 30 s, counts scaled), on\n"
"                          (the whole session: ~25 ns more per program run), off\n"
"  -v, --verbose           more messages (-vv: libbpf and verifier output)\n"
"\n"
"Examples:\n"
"  sudo disco record -d 10                      # whole machine, 10 seconds\n"
"  sudo disco record -e sched -p 1234 -o web.data\n"
"  sudo disco record -e sched --min-latency 2ms -- make -j2\n"
"  sudo disco record -e sched -u nobody -- ./server\n"
"  sudo disco record -e sched,bio -i 1 -n 10    # ten one-second summaries\n"
"\n"
"An existing FILE is kept as FILE.old (one generation, as perf does) unless -f.\n"
"If COMMAND cannot be started, nothing is left behind and FILE.old is put back.\n"
"\n"
"Exit status: like time(1), COMMAND's own status when it fails (128+N when\n"
"signal N killed it), said on stderr; otherwise 0, 1 when recording failed,\n"
"2 for a usage error.\n";

/*
 * Fork COMMAND stopped at a pipe: the collectors attach to its pid first,
 * then child_start() releases it to exec. When a collector probes the
 * program's own libraries (alloc's uprobes on malloc: they must go on the
 * libc it really maps, not on that of the disco that forked it, and a
 * static disco has none), the child execs under ptrace and is held once
 * the dynamic loader has mapped its C library, before the library is
 * relocated or any of the program runs; child_detach() lets it go after
 * recorder_target_loaded(). An exec failure comes back on a CLOEXEC pipe.
 */
struct child {
	pid_t pid;
	int go_fd;	/* write end: release */
	int err_fd;	/* read end: errno from a failed exec */
	bool held;	/* in a ptrace stop until child_detach() */
};

/* sent on err_fd before exec when PTRACE_TRACEME failed */
#define CHILD_UNTRACED (-1)
/* system calls the loader may make before the C library is mapped */
#define CHILD_MAX_SYSCALL_STOPS 20000

static int child_spawn(struct child *ch, char **argv, const char *user)
{
	int go[2], er[2], e;
	struct passwd *pw = NULL;
	char c;	/* 'h': hold at exec (ptrace), 'x': just exec */

	if (user) {
		pw = getpwnam(user);
		if (!pw) {
			log_err("no such user '%s' (-u)", user);
			return -ENOENT;
		}
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(er, O_CLOEXEC))
		return -errno;
	ch->pid = fork();
	if (ch->pid < 0)
		return -errno;
	if (ch->pid == 0) {
		close(go[1]);
		close(er[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		restore_inherited_stop_signals();
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		if (pw && (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) ||
			   setuid(pw->pw_uid))) {
			e = errno;
			if (write(er[1], &e, sizeof(e)) < 0)
				_exit(126);
			_exit(126);
		}
		/* the kernel stops a tracee right after a successful exec */
		if (c == 'h' && ptrace(PTRACE_TRACEME, 0, NULL, NULL)) {
			e = CHILD_UNTRACED;
			if (write(er[1], &e, sizeof(e)) < 0)
				_exit(127);
		}
		execvp(argv[0], argv);
		e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(er[1]);
	ch->go_fd = go[1];
	ch->err_fd = er[0];
	return 0;
}

/*
 * True when pid has no dynamic loader (auxv AT_BASE 0: nothing more gets
 * mapped before main) or has its C library mapped executable.
 */
static bool child_libs_ready(pid_t pid)
{
	char path[64], line[640], perms[8], file[512];
	unsigned long av[2];
	bool has_loader = false, ready = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	f = fopen(path, "re");
	if (!f)
		return true;	/* cannot tell: do not hold it */
	while (fread(av, sizeof(av), 1, f) == 1 && av[0] != AT_NULL)
		if (av[0] == AT_BASE)
			has_loader = av[1] != 0;
	fclose(f);
	if (!has_loader)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (!ready && fgets(line, sizeof(line), f)) {
		const char *b;

		if (sscanf(line, "%*s %7s %*s %*s %*s %511[^\n]", perms, file) != 2 ||
		    perms[2] != 'x')
			continue;
		b = strrchr(file, '/');
		b = b ? b + 1 : file;
		ready = !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5);
	}
	fclose(f);
	return ready;
}

/* Step the traced child from its exec stop, system call by system call. */
static int child_run_to_libc(struct child *ch, const char *cmd)
{
	int st, sig, stops = 0;
	bool exec_seen = false;

	for (;;) {
		if (waitpid(ch->pid, &st, 0) != ch->pid)
			return -errno;
		if (!WIFSTOPPED(st)) {
			log_err("'%s' %s before it started (while loading its libraries)", cmd,
				WIFEXITED(st) ? "exited" : "was killed");
			ch->pid = -1;
			return -ECHILD;
		}
		if (!exec_seen && WSTOPSIG(st) == SIGTRAP) {
			/* the exec stop; EXITKILL: a dying disco takes it along */
			ptrace(PTRACE_SETOPTIONS, ch->pid, NULL,
			       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
			exec_seen = true;
			sig = 0;
		} else if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			sig = 0;
		} else {
			sig = WSTOPSIG(st);	/* a signal for it: pass it on */
		}
		if (!sig) {
			ch->held = true;
			if (child_libs_ready(ch->pid))
				return 0;
			if (++stops > CHILD_MAX_SYSCALL_STOPS) {
				log_warn("'%s' mapped no C library in %d system calls: attaching anyway",
					 cmd, CHILD_MAX_SYSCALL_STOPS);
				return 0;
			}
		}
		ch->held = false;
		if (ptrace(PTRACE_SYSCALL, ch->pid, NULL, (void *)(long)sig))
			return -errno;
	}
}

static int child_start(struct child *ch, const char *cmd, bool hold)
{
	bool traced = hold;
	int e = 0;
	ssize_t n;

	if (write(ch->go_fd, hold ? "h" : "x", 1) != 1)
		return -errno;
	close(ch->go_fd);
	ch->go_fd = -1;
	n = read(ch->err_fd, &e, sizeof(e));
	if (n == sizeof(e) && e == CHILD_UNTRACED) {
		traced = false;
		n = read(ch->err_fd, &e, sizeof(e));
	}
	close(ch->err_fd);
	ch->err_fd = -1;
	if (n == sizeof(e)) {
		log_err("cannot run '%s': %s", cmd, strerror(e));
		return -e;
	}
	if (!traced) {
		if (hold)
			log_warn("cannot hold '%s' at its start (ptrace refused): its libraries are probed while it runs",
				 cmd);
		return 0;
	}
	return child_run_to_libc(ch, cmd);
}

static void child_detach(struct child *ch)
{
	if (ch->held && ptrace(PTRACE_DETACH, ch->pid, NULL, NULL))
		log_warn("releasing the command (pid %d): %s", ch->pid, strerror(errno));
	ch->held = false;
}

/*
 * perf's convention: an existing regular FILE becomes FILE.old before the
 * new one is created with O_EXCL. Anything else at FILE (a symbolic link,
 * a directory) is left for session_create() to refuse.
 */
static int rotate_old(const char *path, char *old, size_t len, bool *rotated)
{
	struct stat st;

	*rotated = false;
	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		log_err("cannot use %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((size_t)snprintf(old, len, "%s.old", path) >= len) {
		log_err("%s: name too long to keep the previous file as .old", path);
		return -ENAMETOOLONG;
	}
	if (rename(path, old)) {
		log_err("cannot keep the previous %s as %s: %s (use -f to overwrite it)", path, old,
			strerror(errno));
		return -errno;
	}
	*rotated = true;
	return 0;
}

/* The recording never started: remove what it made, put FILE.old back. */
static void undo_output(const char *path, bool created, const char *old, bool rotated)
{
	if (created && unlink(path) && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	if (rotated && rename(old, path))
		log_warn("cannot put %s back as %s: %s", old, path, strerror(errno));
}

/* time(1)'s convention: the status COMMAND failed with, 128+N for signal N. */
static int command_status(int status, bool quiet)
{
	int code = 0;

	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (!quiet)
			fprintf(stderr, "disco: command exited with status %d\n", code);
	} else if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status);
		if (!quiet)
			fprintf(stderr, "disco: command was killed by signal %d (%s)\n", WTERMSIG(status),
				strsignal(WTERMSIG(status)));
	}
	return code;
}

/* -i: the interval that just ended, as one line per collector. */
static int print_interval(struct recorder *r, json_t **prev)
{
	json_t *st = recorder_collect(r), *cur, *iv;
	int err = recorder_write_state(r, st);

	cur = timeline_reduce(st);
	iv = timeline_delta(*prev, cur);
	timeline_print_interval(stdout, iv, json_u64(json_object_get(st, "session"), "start_realtime_ns"));
	fflush(stdout);
	json_decref(iv);
	json_decref(*prev);
	*prev = cur;
	json_decref(st);
	return err;
}

static bool pids_alive(const struct rec_opts *o)
{
	for (int i = 0; i < o->npids; i++)
		if (!kill(o->pids[i], 0) || errno != ESRCH)
			return true;
	return o->npids == 0;
}

static void status_line(struct recorder *r, uint64_t start, uint64_t *last_ev, uint64_t *last_t)
{
	uint64_t now = mono_ns(), ev = recorder_events(r);
	double rate = now > *last_t ? (ev - *last_ev) * 1e9 / (now - *last_t) : 0;
	char b[16];

	fprintf(stderr, "\r[%6.1fs] %8.0f events/s  %llu drops  %s written   ",
		(now - start) / 1e9, rate, (unsigned long long)recorder_drops(r),
		fmt_bytes(recorder_bytes(r), b, sizeof(b)));
	*last_ev = ev;
	*last_t = now;
}

const struct opt_cmd opt_cmd_record = {
	.name = "record",
	.common = CO_OUTPUT | CO_PID | CO_EVENT | CO_DURATION,
	.json_means = "the summary at the end as JSON (schema disco.report/1) on stdout, even with -q",
	.quiet_means = "no live status and no summary at the end",
	.output_means = "session file (default disco.data), created 0600; refused below a symlink owned by neither root nor you",
	.colopts = true,
	.in_order = true,
};

/*
 * Poll until a reason to stop: the duration, -n intervals, the command or
 * the -p targets exiting, a signal; *why says which (NULL: the recorder
 * failed and said so). *status is the command's when *child_done.
 */
static int record_until_stop(struct recorder *r, const struct record_args *a, pid_t child,
			     int *status, bool *child_done, const char **why)
{
	uint64_t start, last_ev = 0, last_t = 0, last_status = 0;
	unsigned long long intervals = 0;
	bool tty = isatty(STDERR_FILENO);
	json_t *prev_iv = NULL;
	int rc = EXIT_OK;

	catch_stop_signals();
	signal(SIGPIPE, SIG_IGN);
	if (a->interval_ns) {
		recorder_state_period(r, 0);
		tty = false;	/* the interval lines are the live view */
	}
	if (!a->quiet)
		fprintf(stderr, "disco: recording to %s%s\n", a->output,
			a->duration_ns || a->count ? "" : a->cmd_argc ? " until the command exits (Ctrl-C to stop)" :
			" until Ctrl-C");
	*why = NULL;
	start = last_t = mono_ns();
	for (;;) {
		if (recorder_poll(r, 100) < 0) {
			*why = NULL;	/* the recorder said what failed */
			rc = EXIT_ERR;
			break;
		}
		if (stop_signal) {
			*why = stop_signal == SIGINT ? "interrupted" : "terminated";
			break;
		}
		if (a->interval_ns && mono_ns() - start >= (intervals + 1) * a->interval_ns) {
			intervals++;
			if (print_interval(r, &prev_iv) < 0) {
				rc = EXIT_ERR;
				break;
			}
			if (a->count && intervals >= a->count) {
				*why = "all intervals done";
				break;
			}
		}
		if (a->duration_ns && mono_ns() - start >= a->duration_ns) {
			*why = "duration reached";
			break;
		}
		if (child > 0 && waitpid(child, status, WNOHANG) == child) {
			*child_done = true;
			*why = "command exited";
			break;
		}
		if (!pids_alive(&a->o)) {
			*why = "target processes exited";
			break;
		}
		if (tty && !a->quiet && mono_ns() - last_status >= 1000000000ULL) {
			last_status = mono_ns();
			status_line(r, start, &last_ev, &last_t);
		}
	}
	if (tty && !a->quiet)
		fputc('\n', stderr);
	json_decref(prev_iv);
	return rc;
}

/* The summary at the end: text, or with -j the JSON report (disco.report/1), even with -q. */
static int print_summary(const struct record_args *a)
{
	struct report_opts ro = { .top = 10 };
	char msg[256];
	json_t *rep = report_load(a->output, &ro, msg, sizeof(msg));
	int rc = EXIT_OK;

	if (!rep) {
		log_err("reading back %s: %s", a->output, msg);
		return EXIT_ERR;
	}
	if (a->json) {
		if (json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) ||
		    fputc('\n', stdout) == EOF)
			rc = EXIT_ERR;
	} else if (report_render_text(rep, stdout, &ro)) {
		rc = EXIT_ERR;
	}
	json_decref(rep);
	return rc;
}

/* The COMMAND, if any: ended (SIGTERM) unless it exited on its own, its pipes closed. */
static void end_command(struct child *ch, bool exited)
{
	child_detach(ch);
	if (ch->pid > 0 && !exited) {
		kill(ch->pid, SIGTERM);
		waitpid(ch->pid, NULL, 0);
	}
	if (ch->go_fd >= 0)
		close(ch->go_fd);
	if (ch->err_fd >= 0)
		close(ch->err_fd);
}

int cmd_record(int argc, char **argv)
{
	struct record_args a;
	struct recorder *r = NULL;
	struct child ch = { .pid = -1, .go_fd = -1, .err_fd = -1 };
	bool child_done = false, rotated = false;
	const char *why = NULL;
	char old[PATH_MAX], unsafe[PATH_MAX + 80];
	int rc, err, status;

	rc = record_parse_args(argc, argv, &opt_cmd_record, &a, NULL);
	if (rc != EXIT_OK)
		return rc;
	catch_stop_signals_early();
	if (a.count && !a.interval_ns) {
		rc = usage_error("record", "-n COUNT counts intervals: give -i SECS too");
		goto out_child;
	}
	rc = EXIT_ERR;
	err = safepath_check_dirs(a.output, getuid(), unsafe, sizeof(unsafe));
	if (err) {
		log_err("refusing to write %s: %s", a.output, unsafe);
		goto out_child;
	}
	if (a.cmd_argc) {
		if (!a.system_wide && collectors_prepare_command(a.mask, &a.o))
			goto out_child;
		if (child_spawn(&ch, a.cmd_argv, a.user))
			goto out_child;
		if (!a.system_wide)
			a.o.target_pid = ch.pid;
	}
	rc = EXIT_OK;
	if (!a.force && rotate_old(a.output, old, sizeof(old), &rotated)) {
		rc = EXIT_ERR;
		goto out_child;
	}
	r = recorder_start(a.mask, &a.o, a.output, a.force, argc, argv);
	if (!r) {
		undo_output(a.output, false, old, rotated);
		rc = EXIT_ERR;
		goto out_child;
	}
	if (a.cmd_argc) {
		bool hold = a.o.target_pid > 0 && recorder_wants_target_loaded(r);

		err = child_start(&ch, a.cmd_argv[0], hold);
		if (!err && hold)
			err = recorder_target_loaded(r, ch.pid);
		child_detach(&ch);
		if (err) {
			recorder_stop(r, NULL);
			r = NULL;
			undo_output(a.output, true, old, rotated);
			rc = EXIT_ERR;
			goto out_child;
		}
	}
	caps_drop_after_attach(true);
	/* after the drop: the writer thread gets what is left */
	err = recorder_write_async(r);
	if (err) {
		log_err("cannot start the session writer: %s", strerror(-err));
		recorder_stop(r, NULL);
		r = NULL;
		rc = EXIT_ERR;
		goto out_child;
	}
	rc = record_until_stop(r, &a, ch.pid, &status, &child_done, &why);
	/* last events of the command are still in the rings: drain them */
	recorder_poll(r, 0);
	err = recorder_stop(r, NULL);
	r = NULL;
	if (err && why) {
		log_err("%s: the session could not be completed (%s); what was written before is readable",
			a.output, strerror(-err));
		rc = EXIT_ERR;
	}
	if (!a.quiet && rc == EXIT_OK)
		fprintf(stderr, "disco: %s; session written to %s\n", why, a.output);
	if ((!a.quiet || a.json) && rc == EXIT_OK)
		rc = print_summary(&a);
	/* after the summary, so it is the last line a user sees */
	if (child_done) {
		int code = command_status(status, a.quiet);

		if (code && rc == EXIT_OK)
			rc = code;
	}
out_child:
	end_command(&ch, child_done);
	rec_opts_release(&a.o);
	return rc;
}
