// SPDX-License-Identifier: GPL-2.0
/* Proves with capstone where a uprobe can sit on an emulated instruction. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <capstone/capstone.h>
#include "log.h"
#include "uprobe_place.h"

/* How far into a function we look for an emulated instruction. */
#define PLACE_WINDOW 48

/* The 64-bit register a capstone register id is part of (0 if none of ours). */
static unsigned int reg_bit(unsigned int r)
{
	switch (r) {
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return PR_RDI;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return PR_RSI;
	case X86_REG_RDX: case X86_REG_EDX: case X86_REG_DX: case X86_REG_DL: case X86_REG_DH:
		return PR_RDX;
	case X86_REG_RCX: case X86_REG_ECX: case X86_REG_CX: case X86_REG_CL: case X86_REG_CH:
		return PR_RCX;
	case X86_REG_R8: case X86_REG_R8D: case X86_REG_R8W: case X86_REG_R8B:
		return PR_R8;
	case X86_REG_R9: case X86_REG_R9D: case X86_REG_R9W: case X86_REG_R9B:
		return PR_R9;
	}
	return 0;
}

static bool is_sp(unsigned int r)
{
	return r == X86_REG_RSP || r == X86_REG_ESP || r == X86_REG_SP || r == X86_REG_SPL;
}

/*
 * Instructions arch/x86/kernel/uprobes.c emulates instead of stepping:
 * push of a register (0x50-0x57, optionally with REX 0x41) and relative
 * jmp, call and jcc without prefixes (branch_setup_xol_ops).
 */
static bool kernel_emulates(const cs_insn *in)
{
	const uint8_t *b = in->bytes;

	if (in->size == 1 && b[0] >= 0x50 && b[0] <= 0x57)
		return true;
	if (in->size == 2 && b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)
		return true;
	if ((in->size == 2 && (b[0] == 0xeb || (b[0] >= 0x70 && b[0] <= 0x7f))) ||
	    (in->size == 5 && (b[0] == 0xe9 || b[0] == 0xe8)) ||
	    (in->size == 6 && b[0] == 0x0f && b[1] >= 0x80 && b[1] <= 0x8f))
		return true;
	return false;
}

static bool in_group(const cs_insn *in, uint8_t g)
{
	for (int i = 0; i < in->detail->groups_count; i++)
		if (in->detail->groups[i] == g)
			return true;
	return false;
}

/* `test r,r` on the null-skip register (full 64-bit register only). */
static bool is_null_test(const cs_insn *in, unsigned int reg)
{
	const cs_x86 *x = &in->detail->x86;

	return reg && in->id == X86_INS_TEST && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG && x->operands[1].type == X86_OP_REG &&
	       x->operands[0].reg == x->operands[1].reg && x->operands[0].size == 8 &&
	       reg_bit(x->operands[0].reg) == reg;
}

/*
 * Why the instruction cannot be stepped over on the way to a later probe
 * point, or NULL if it can: it must fall through to the next instruction,
 * leave the needed registers and the stack pointer alone and write no
 * memory.
 */
static const char *blocks(csh h, const cs_insn *in, unsigned int need)
{
	cs_regs rr, rw;
	uint8_t nr = 0, nw = 0;
	const cs_x86 *x = &in->detail->x86;

	if (in_group(in, CS_GRP_JUMP) || in_group(in, CS_GRP_CALL) || in_group(in, CS_GRP_RET) ||
	    in_group(in, CS_GRP_INT) || in_group(in, CS_GRP_IRET) || in->id == X86_INS_SYSCALL ||
	    in->id == X86_INS_HLT || in->id == X86_INS_UD2)
		return "changes control flow";
	if (cs_regs_access(h, in, rr, &nr, rw, &nw))
		return "register use not decodable";
	for (int i = 0; i < nw; i++) {
		if (is_sp(rw[i]))
			return "moves the stack pointer";
		if (reg_bit(rw[i]) & need)
			return "writes an argument register";
	}
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && (x->operands[i].access & CS_AC_WRITE))
			return "writes memory";
	return NULL;
}

static int open_cs(csh *h)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, h) != CS_ERR_OK)
		return -ENOTSUP;
	cs_option(*h, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

void uprobe_place_code(const uint8_t *code, size_t len, const struct place_req *req,
		       struct place_result *res)
{
	const uint8_t *p = code;
	size_t left = len < PLACE_WINDOW ? len : PLACE_WINDOW;
	uint64_t addr = req->vaddr;
	bool skipped_null = false;
	cs_insn *in = NULL, *prev = NULL;
	const char *why = NULL;
	csh h;

	memset(res, 0, sizeof(*res));
	if (open_cs(&h)) {
		snprintf(res->why, sizeof(res->why), "entry: capstone unavailable");
		return;
	}
	in = cs_malloc(h);
	prev = cs_malloc(h);
	if (!in || !prev) {
		snprintf(res->why, sizeof(res->why), "entry: out of memory");
		goto out;
	}
	while (left) {
		uint64_t off = addr - req->vaddr;

		if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
			why = "undecodable instruction";
			break;
		}
		if (kernel_emulates(in)) {
			/* a jcc we are about to pass as the null check is not the probe */
			res->offset = off;
			res->emulated = true;
			if (!off)
				snprintf(res->why, sizeof(res->why), "entry: '%s %s' is emulated",
					 in->mnemonic, in->op_str);
			else
				snprintf(res->why, sizeof(res->why),
					 "+%llu at '%s %s' (emulated); skipped instructions keep the "
					 "arguments and stack%s",
					 (unsigned long long)off, in->mnemonic, in->op_str,
					 skipped_null ? ", only the NULL-argument path branches away" : "");
			/* the null check's je is emulated too, but probing it gains nothing */
			if (!(off && is_null_test(prev, req->null_skip_reg) && in->id == X86_INS_JE))
				goto out;
			res->offset = 0;
			res->emulated = false;
		}
		if (off && in->id == X86_INS_JE && is_null_test(prev, req->null_skip_reg) &&
		    in->detail->x86.op_count == 1 && in->detail->x86.operands[0].type == X86_OP_IMM) {
			/* only calls with a NULL argument leave the straight path */
			skipped_null = true;
		} else if ((why = blocks(h, in, req->need_regs))) {
			break;
		}
		/* keep the previous instruction for the null-check pattern */
		{
			cs_insn *t = prev;

			prev = in;
			in = t;
		}
	}
	res->offset = 0;
	res->emulated = false;
	snprintf(res->why, sizeof(res->why), "entry: no emulated instruction reachable (%s)",
		 why ? why : "window ended");
out:
	if (in)
		cs_free(in, 1);
	if (prev)
		cs_free(prev, 1);
	cs_close(&h);
}

/*
 * A probe moved to entry+off is only correct if no branch lands inside
 * (entry, entry+off]: such a jump would hit the probe without passing the
 * entry (or twice). Sweep every executable section for direct branches
 * into any of the ranges; ranges hit fall back to the entry. Functions
 * containing register-indirect jumps (jump tables) fall back as well,
 * since their targets cannot be listed.
 */
static void check_branch_targets(csh h, Elf *e, const struct place_req *reqs, size_t n,
				 struct place_result *res)
{
	Elf_Scn *scn = NULL;
	cs_insn *in = cs_malloc(h);

	if (!in)
		return;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		const uint8_t *p;
		size_t left;
		uint64_t addr;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		p = d->d_buf;
		left = d->d_size;
		addr = sh.sh_addr;
		while (left) {
			const cs_x86 *x;

			if (!cs_disasm_iter(h, &p, &left, &addr, in)) {
				/* padding or data: resynchronise one byte on */
				p++;
				left--;
				addr++;
				continue;
			}
			if (!in_group(in, CS_GRP_JUMP) && !in_group(in, CS_GRP_CALL))
				continue;
			x = &in->detail->x86;
			for (size_t i = 0; i < n; i++) {
				uint64_t lo = reqs[i].vaddr, hi = reqs[i].vaddr + res[i].offset;
				uint64_t from = in->address;

				if (!res[i].offset)
					continue;
				if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
					uint64_t t = x->operands[0].imm;

					if (t > lo && t <= hi) {
						snprintf(res[i].why, sizeof(res[i].why),
							 "entry: a branch at 0x%llx lands inside the skipped "
							 "instructions", (unsigned long long)from);
						res[i].offset = 0;
						res[i].emulated = false;
					}
				} else if (in->id == X86_INS_JMP && reqs[i].size &&
					   from >= lo && from < lo + reqs[i].size &&
					   !(x->op_count == 1 && x->operands[0].type == X86_OP_MEM &&
					     x->operands[0].mem.base == X86_REG_RIP)) {
					/* not a GOT tail call: a computed jump inside the function */
					snprintf(res[i].why, sizeof(res[i].why),
						 "entry: indirect jump at 0x%llx in the function",
						 (unsigned long long)from);
					res[i].offset = 0;
					res[i].emulated = false;
				}
			}
		}
	}
	cs_free(in, 1);
}

/* Copy up to len code bytes at vaddr from the section holding them. */
static size_t read_code(Elf *e, uint64_t vaddr, uint8_t *buf, size_t len)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || vaddr < sh.sh_addr ||
		    vaddr >= sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return 0;
		n = sh.sh_addr + d->d_size - vaddr;
		if (n > len)
			n = len;
		memcpy(buf, (const uint8_t *)d->d_buf + (vaddr - sh.sh_addr), n);
		return n;
	}
	return 0;
}

int uprobe_place(const char *path, const struct place_req *reqs, size_t n,
		 struct place_result *res)
{
	uint8_t code[PLACE_WINDOW];
	bool any_moved = false;
	Elf *e = NULL;
	csh h;
	int fd, err = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		snprintf(res[i].why, sizeof(res[i].why), "entry: not analysed");
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = read_code(e, reqs[i].vaddr, code, sizeof(code));

		if (reqs[i].size && len > reqs[i].size)
			len = reqs[i].size;
		if (!len) {
			snprintf(res[i].why, sizeof(res[i].why), "entry: code not found in %s", path);
			continue;
		}
		uprobe_place_code(code, len, &reqs[i], &res[i]);
		if (res[i].offset)
			any_moved = true;
	}
	if (any_moved) {
		if (open_cs(&h)) {
			err = -ENOTSUP;
			goto out;
		}
		check_branch_targets(h, e, reqs, n, res);
		cs_close(&h);
	}
out:
	if (err)
		for (size_t i = 0; i < n; i++) {
			res[i].offset = 0;
			res[i].emulated = false;
			snprintf(res[i].why, sizeof(res[i].why), "entry: %s", strerror(-err));
		}
	if (e)
		elf_end(e);
	close(fd);
	return err;
}
