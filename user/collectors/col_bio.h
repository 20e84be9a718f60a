/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure helpers of the block IO collector, exported for the unit tests:
 * disk names <-> kernel dev_t through a sysfs tree, op names.
 */
#ifndef DISCO_COL_BIO_H
#define DISCO_COL_BIO_H

#include <stddef.h>
#include <stdint.h>

/* "read", "write", "flush", "discard", "other"; NULL if out of range */
const char *bio_op_name(unsigned int op);
/* Inverse of bio_op_name: 0..BIO_NOPS-1, or -EINVAL. */
int bio_op_parse(const char *name);

/* "MAJ:MIN" (decimal) into a kernel dev_t; 0 or -EINVAL. */
int bio_parse_majmin(const char *s, uint32_t *dev);
/*
 * Value of KEY= (e.g. "DEVNAME", "DEVTYPE") in the text of a sysfs uevent
 * file; 0, -ENOENT or -ENAMETOOLONG.
 */
int bio_uevent_get(const char *text, const char *key, char *buf, size_t len);

/*
 * Kernel name of the disk with dev_t dev ("vda", "loop0", "cciss/c0d0"),
 * read from <root>/sys/dev/block/MAJ:MIN (uevent DEVNAME, else the link's
 * last component). root NULL or "" means "/". 0 or -errno.
 */
int bio_disk_name(const char *root, uint32_t dev, char *buf, size_t len);
/*
 * dev_t of a disk named on the command line: "loop0", "/dev/loop0",
 * "cciss/c0d0" or "7:0", through <root>/sys/class/block/NAME/dev.
 * 0, -ENOENT (no such disk), -EINVAL (not a disk name) or -EISDIR (a
 * partition: requests are counted per whole disk).
 */
int bio_disk_dev(const char *root, const char *name, uint32_t *dev);

/*
 * Entries of the preallocated per-(disk, op) table: every op of the disks
 * named by --disk (filtered, if any), else of the disks present at load
 * plus 16 that may appear while recording (loop devices); all possible
 * disks when present is 0 (no /sys/block).
 */
uint32_t bio_stats_entries(uint32_t present, uint32_t filtered);
/* Entries of <root>/sys/block (whole disks); 0 when unreadable. */
uint32_t bio_disks_present(const char *root);

#endif
