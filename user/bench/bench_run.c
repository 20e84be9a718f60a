// SPDX-License-Identifier: GPL-2.0
/* disco bench runner: one forked child per run, its collector on that child. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"
#include "collector.h"
#include "log.h"
#include "recorder.h"
#include "clock.h"

/* Child -> parent: once after prepare (ops unset), once with the result. */
struct child_msg {
	int32_t err;
	uint32_t pad;
	uint64_t ops;
	uint64_t elapsed_ns;
	char text[BENCH_NOTE_MAX];
};

/* The collector's ring buffer: bench streams only outliers. */
#define BENCH_RING_BYTES (1u << 20)
/* Setup (file open, netns) and teardown must finish well within this. */
#define BENCH_SLACK_MS 60000

static void send_msg(int fd, const struct child_msg *m)
{
	/* a pipe write below PIPE_BUF is atomic; nothing to do on failure,
	 * the parent sees EOF and reports the child died */
	if (write(fd, m, sizeof(*m)) != sizeof(*m))
		_exit(1);
}

static int child_main(const struct bench_runner *run, const struct bench_figure *fig,
		      const struct bench_env *env, uint64_t duration_ns, int up, int down)
{
	struct child_msg m = { 0 };
	void *state = NULL;
	char go;

	m.err = run->prepare(fig, env, &state, m.text, sizeof(m.text));
	send_msg(up, &m);
	if (m.err)
		return 1;
	if (read(down, &go, 1) != 1)
		goto out;	/* the parent gave up */
	memset(&m, 0, sizeof(m));
	m.err = run->run(state, duration_ns, &m.ops, &m.elapsed_ns, m.text, sizeof(m.text));
	send_msg(up, &m);
out:
	run->cleanup(state);
	return 0;
}

/* Read one message, waiting at most timeout_ms; with r, drain its rings meanwhile. */
static int recv_msg(int fd, struct recorder *r, int timeout_ms, struct child_msg *m,
		    int *rec_err)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		int ret;

		if (r && !*rec_err) {
			ret = recorder_poll(r, 100);
			if (ret < 0)
				*rec_err = ret;
		}
		ret = poll(&p, 1, r && !*rec_err ? 0 : 200);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0)
			break;
		if (mono_ns() > deadline)
			return -ETIMEDOUT;
	}
	n = read(fd, m, sizeof(*m));
	if (n == 0)
		return -EPIPE;
	if (n != sizeof(*m))
		return n < 0 ? -errno : -EIO;
	m->text[sizeof(m->text) - 1] = 0;
	return 0;
}

static struct recorder *start_collector(const char *name, pid_t pid, char *note,
					size_t notelen)
{
	const struct collector *c = collector_find(name);
	struct rec_opts o;
	struct recorder *r;
	size_t i;

	if (!c) {
		snprintf(note, notelen, "collector %s is not built into this disco", name);
		return NULL;
	}
	for (i = 0; i < ncollectors && collectors[i] != c; i++)
		;
	memset(&o, 0, sizeof(o));
	o.pids[0] = pid;
	o.npids = 1;
	o.ring_bytes = BENCH_RING_BYTES;
	r = recorder_start(1ULL << i, &o, NULL, false, 0, NULL);
	if (!r)
		snprintf(note, notelen, "collector %s failed to start: %s", name,
			 strerror(errno));
	return r;
}

int bench_run_once(const struct bench_workload *w, const struct bench_figure *fig,
		   const struct bench_env *env, uint64_t duration_ns, bool trace,
		   struct bench_sample *out, bool *attached, char *note, size_t notelen)
{
	int up[2] = { -1, -1 }, down[2] = { -1, -1 }, rec_err = 0, status, ret;
	int timeout_ms = (int)(duration_ns / 1000000) + BENCH_SLACK_MS;
	struct recorder *r = NULL;
	struct child_msg m;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	*attached = false;
	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC)) {
		ret = -errno;
		log_err("bench: pipe: %s", strerror(errno));
		goto out_close;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		log_err("bench: fork: %s", strerror(errno));
		goto out_close;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		_exit(child_main(w->runner, fig, env, duration_ns, up[1], down[0]));
	}
	close(up[1]);
	close(down[0]);
	up[1] = down[0] = -1;

	ret = recv_msg(up[0], NULL, BENCH_SLACK_MS, &m, &rec_err);
	if (ret || m.err) {
		log_err("bench: %s: %s", fig->name,
			ret ? "the workload process died while setting up" : m.text);
		ret = ret ?: m.err;
		goto out_kill;
	}
	if (trace)
		r = start_collector(w->collector, pid, note, notelen);
	*attached = r != NULL;
	if (write(down[1], "g", 1) != 1) {
		ret = -errno;
		log_err("bench: %s: cannot start the workload: %s", fig->name, strerror(errno));
		goto out_stop;
	}
	ret = recv_msg(up[0], r, timeout_ms, &m, &rec_err);
	if (ret || m.err) {
		log_err("bench: %s: %s", fig->name,
			ret == -ETIMEDOUT ? "the workload did not finish in time" :
			ret ? "the workload process died" : m.text);
		ret = ret ?: m.err;
		goto out_stop;
	}
	out->ops = m.ops;
	out->elapsed_ns = m.elapsed_ns;
	out->ops_per_sec = m.elapsed_ns ? (double)m.ops * 1e9 / (double)m.elapsed_ns : 0;
	if (r && rec_err) {
		snprintf(note, notelen, "collector %s stopped polling: %s", w->collector,
			 strerror(-rec_err));
	} else if (r) {
		json_t *snap = recorder_collect(r);

		if (snap)
			bench_latency_from_report(snap, w, out, note, notelen);
		else
			snprintf(note, notelen, "collector %s returned no snapshot",
				 w->collector);
		json_decref(snap);
	}
out_stop:
	if (r)
		recorder_stop(r, NULL);
out_kill:
	if (ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
out_close:
	for (int i = 0; i < 2; i++) {
		if (up[i] >= 0)
			close(up[i]);
		if (down[i] >= 0)
			close(down[i]);
	}
	return ret;
}

static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 1 + strspn(colon + 1, " \t");
		colon[strcspn(colon, "\n")] = 0;
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

void bench_fill_machine(struct bench_result *r)
{
	struct utsname u;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (!uname(&u)) {
		snprintf(r->hostname, sizeof(r->hostname), "%s", u.nodename);
		snprintf(r->kernel, sizeof(r->kernel), "%s", u.release);
	}
	r->cpus = n > 0 ? (unsigned int)n : 0;
	cpu_model(r->model, sizeof(r->model));
	snprintf(r->version, sizeof(r->version), "%s", DISCO_VERSION);
}
