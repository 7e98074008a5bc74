// lossyfs: a FUSE file system that behaves like a disk behind a page cache that loses power.
//
//   lossyfs STATE MOUNTPOINT [FUSE options]      (STATE/live and STATE/durable must exist)
//
// Processes see STATE/live through MOUNTPOINT: every write lands there at once, as it would in
// the page cache. STATE/durable holds what the disk holds: a page reaches it only when its file
// is fsynced (fsync, fdatasync, msync(MS_SYNC)) or written through a descriptor opened with
// O_SYNC or O_DSYNC. Creating, renaming and removing files and folders reach it at once (a
// journalled file system's metadata), but a renamed file keeps only its durable content.
//
// Unmounting is the power cut: pages never synced are dropped, except that each survives with
// probability LOSSYFS_KEEP (default 0; seeded by LOSSYFS_SEED), since a kernel may write dirty
// pages back at any moment before a crash. STATE/durable is then what a machine would find
// after rebooting. On exit one line on stderr counts the pages synced, dropped and kept.
//
// Single-threaded on purpose (run with -s): the bookkeeping needs no locks. Locks (flock,
// fcntl) are left to the kernel, which keeps them locally for a FUSE file system without them.
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

enum { PAGE = 4096 };

static char live_root[4096], durable_root[4096];
static double keep_fraction = 0;
static uint64_t random_state = 0x9e3779b97f4a7c15ULL;
static unsigned long long pages_synced, pages_dropped, pages_kept;

// Dirty pages of one file, by its current path.
struct dirty_file {
    char *path;
    uint8_t *pages;        // one byte per page: 1 = written since the last sync
    size_t capacity;       // entries in `pages`
    int size_changed;      // truncated since the last sync
    struct dirty_file *next;
};
static struct dirty_file *dirty_files;

// An open file: its descriptor on the live copy and whether writes through it are synchronous.
struct open_file {
    int fd;
    int synchronous;
};

static uint64_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return random_state;
}

static void joined(char *out, const char *root, const char *path) {
    snprintf(out, 4096, "%s%s", root, path);
}

static struct dirty_file *dirty_entry(const char *path, int create) {
    for (struct dirty_file *f = dirty_files; f; f = f->next)
        if (strcmp(f->path, path) == 0) return f;
    if (!create) return NULL;
    struct dirty_file *f = calloc(1, sizeof *f);
    f->path = strdup(path);
    f->next = dirty_files;
    dirty_files = f;
    return f;
}

static void forget_dirty(const char *path) {
    for (struct dirty_file **link = &dirty_files; *link; link = &(*link)->next) {
        if (strcmp((*link)->path, path) == 0) {
            struct dirty_file *f = *link;
            *link = f->next;
            free(f->path);
            free(f->pages);
            free(f);
            return;
        }
    }
}

static void mark_dirty(const char *path, off_t offset, size_t length) {
    if (length == 0) return;
    struct dirty_file *f = dirty_entry(path, 1);
    size_t last = (size_t)(offset + length - 1) / PAGE;
    if (last >= f->capacity) {
        size_t capacity = f->capacity ? f->capacity : 256;
        while (capacity <= last) capacity *= 2;
        f->pages = realloc(f->pages, capacity);
        memset(f->pages + f->capacity, 0, capacity - f->capacity);
        f->capacity = capacity;
    }
    for (size_t page = (size_t)offset / PAGE; page <= last; page++) f->pages[page] = 1;
}

// Copies the page from the live file to the durable one.
static int copy_page(int from, int to, size_t page, off_t live_size) {
    char buffer[PAGE];
    off_t offset = (off_t)page * PAGE;
    if (offset >= live_size) return 0;
    ssize_t length = pread(from, buffer, PAGE, offset);
    if (length < 0) return -errno;
    if (length > 0 && pwrite(to, buffer, (size_t)length, offset) != length) return -EIO;
    return 0;
}

// Makes the file's pages durable: every page when `probability` is 1 (a sync), else each with
// that probability (the power cut); the rest are dropped when `drop_rest` is set.
static int settle(const char *path, double probability, int drop_rest) {
    struct dirty_file *f = dirty_entry(path, 0);
    if (!f) return 0;
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    int from = open(live, O_RDONLY), to = open(durable, O_WRONLY | O_CREAT, 0600);
    if (from < 0 || to < 0) {
        int error = errno;
        if (from >= 0) close(from);
        if (to >= 0) close(to);
        return -error;
    }
    struct stat st;
    fstat(from, &st);
    int result = 0;
    if (probability >= 1 && f->size_changed) {
        if (ftruncate(to, st.st_size) != 0) result = -errno;
        f->size_changed = 0;
    }
    for (size_t page = 0; page < f->capacity && result == 0; page++) {
        if (!f->pages[page]) continue;
        int keep = probability >= 1 || (double)(next_random() >> 11) / 9007199254740992.0 < probability;
        if (keep) {
            result = copy_page(from, to, page, st.st_size);
            if (probability >= 1) pages_synced++; else pages_kept++;
            f->pages[page] = 0;
        } else if (drop_rest) {
            pages_dropped++;
            f->pages[page] = 0;
        }
    }
    close(from);
    close(to);
    return result;
}

static int sync_path(const char *path) {
    return settle(path, 1, 0);
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    (void)fi;
    char live[4096];
    joined(live, live_root, path);
    return lstat(live, st) == 0 ? 0 : -errno;
}

static int op_readdir(const char *path, void *buffer, fuse_fill_dir_t fill, off_t offset, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags) {
    (void)offset; (void)fi; (void)flags;
    char live[4096];
    joined(live, live_root, path);
    DIR *dir = opendir(live);
    if (!dir) return -errno;
    for (struct dirent *entry; (entry = readdir(dir));) fill(buffer, entry->d_name, NULL, 0, 0);
    closedir(dir);
    return 0;
}

// Runs a namespace operation on both copies; the live copy's result counts.
#define ON_BOTH(call_live, call_durable) do { \
        if ((call_live) != 0) return -errno; \
        (void)(call_durable); \
        return 0; \
    } while (0)

static int op_mkdir(const char *path, mode_t mode) {
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    ON_BOTH(mkdir(live, mode), mkdir(durable, mode));
}

static int op_rmdir(const char *path) {
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    ON_BOTH(rmdir(live), rmdir(durable));
}

static int op_unlink(const char *path) {
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    forget_dirty(path);
    ON_BOTH(unlink(live), unlink(durable));
}

static int op_rename(const char *from, const char *to, unsigned int flags) {
    if (flags != 0) return -EINVAL;
    char live_from[4096], live_to[4096], durable_from[4096], durable_to[4096];
    joined(live_from, live_root, from);
    joined(live_to, live_root, to);
    joined(durable_from, durable_root, from);
    joined(durable_to, durable_root, to);
    if (rename(live_from, live_to) != 0) return -errno;
    if (rename(durable_from, durable_to) != 0 && errno == ENOENT) unlink(durable_to);
    forget_dirty(to);
    struct dirty_file *f = dirty_entry(from, 0);
    if (f) {
        free(f->path);
        f->path = strdup(to);
    }
    // Files inside a renamed folder keep their dirty pages under their new paths.
    size_t length = strlen(from);
    for (struct dirty_file *g = dirty_files; g; g = g->next) {
        if (strncmp(g->path, from, length) == 0 && g->path[length] == '/') {
            char moved[4096];
            snprintf(moved, sizeof moved, "%s%s", to, g->path + length);
            free(g->path);
            g->path = strdup(moved);
        }
    }
    return 0;
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    (void)fi;
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    ON_BOTH(chmod(live, mode), chmod(durable, mode));
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
    (void)fi;
    char live[4096], durable[4096];
    joined(live, live_root, path);
    joined(durable, durable_root, path);
    ON_BOTH(lchown(live, uid, gid), lchown(durable, uid, gid));
}

static int op_utimens(const char *path, const struct timespec times[2], struct fuse_file_info *fi) {
    (void)fi;
    char live[4096];
    joined(live, live_root, path);
    return utimensat(AT_FDCWD, live, times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    char live[4096];
    joined(live, live_root, path);
    int result = fi ? ftruncate(((struct open_file *)(uintptr_t)fi->fh)->fd, size) : truncate(live, size);
    if (result != 0) return -errno;
    dirty_entry(path, 1)->size_changed = 1;
    return 0;
}

static int open_live(const char *path, struct fuse_file_info *fi, int create, mode_t mode) {
    char live[4096];
    joined(live, live_root, path);
    int flags = fi->flags & ~(O_SYNC | O_DSYNC);
    int fd = create ? open(live, flags | O_CREAT, mode) : open(live, flags);
    if (fd < 0) return -errno;
    if (create) {
        char durable[4096];
        joined(durable, durable_root, path);
        int d = open(durable, O_WRONLY | O_CREAT, mode);
        if (d >= 0) close(d);
    }
    if (fi->flags & O_TRUNC) dirty_entry(path, 1)->size_changed = 1;
    struct open_file *file = malloc(sizeof *file);
    file->fd = fd;
    file->synchronous = (fi->flags & (O_SYNC | O_DSYNC)) != 0;
    fi->fh = (uint64_t)(uintptr_t)file;
    return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi) { return open_live(path, fi, 0, 0); }

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi) { return open_live(path, fi, 1, mode); }

static int op_read(const char *path, char *buffer, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)path;
    ssize_t length = pread(((struct open_file *)(uintptr_t)fi->fh)->fd, buffer, size, offset);
    return length < 0 ? -errno : (int)length;
}

static int op_write(const char *path, const char *buffer, size_t size, off_t offset, struct fuse_file_info *fi) {
    struct open_file *file = (struct open_file *)(uintptr_t)fi->fh;
    ssize_t length = pwrite(file->fd, buffer, size, offset);
    if (length < 0) return -errno;
    mark_dirty(path, offset, (size_t)length);
    if (file->synchronous) {
        int result = sync_path(path);
        if (result != 0) return result;
    }
    return (int)length;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync; (void)fi;
    return sync_path(path);
}

static int op_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    struct open_file *file = (struct open_file *)(uintptr_t)fi->fh;
    close(file->fd);
    free(file);
    return 0;
}

static int op_statfs(const char *path, struct statvfs *st) {
    char live[4096];
    joined(live, live_root, path);
    return statvfs(live, st) == 0 ? 0 : -errno;
}

static int op_access(const char *path, int mask) {
    char live[4096];
    joined(live, live_root, path);
    return access(live, mask) == 0 ? 0 : -errno;
}

static void *op_init(struct fuse_conn_info *connection, struct fuse_config *config) {
    (void)connection;
    config->use_ino = 0;
    config->kernel_cache = 0;
    config->direct_io = 0;
    return NULL;
}

// The power cut: one line per file that lost pages, then the totals.
static void op_destroy(void *data) {
    (void)data;
    while (dirty_files) {
        unsigned long long dropped_before = pages_dropped;
        settle(dirty_files->path, keep_fraction, 1);
        if (pages_dropped > dropped_before) fprintf(stderr, "lossyfs: dropped %llu %s\n", pages_dropped - dropped_before, dirty_files->path);
        forget_dirty(dirty_files->path);
    }
    fprintf(stderr, "lossyfs: %llu pages synced, %llu unsynced pages dropped, %llu kept\n", pages_synced, pages_dropped, pages_kept);
}

static const struct fuse_operations operations = {
    .getattr = op_getattr,
    .readdir = op_readdir,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .unlink = op_unlink,
    .rename = op_rename,
    .chmod = op_chmod,
    .chown = op_chown,
    .utimens = op_utimens,
    .truncate = op_truncate,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    .fsync = op_fsync,
    .release = op_release,
    .statfs = op_statfs,
    .access = op_access,
    .init = op_init,
    .destroy = op_destroy,
};

int main(int argc, char *argv[]) {
    if (argc < 3) {
        fprintf(stderr, "usage: lossyfs STATE MOUNTPOINT [FUSE options]  (STATE/live and STATE/durable must exist)\n");
        return 2;
    }
    char *state = realpath(argv[1], NULL);
    if (!state) { perror(argv[1]); return 2; }
    snprintf(live_root, sizeof live_root, "%s/live", state);
    snprintf(durable_root, sizeof durable_root, "%s/durable", state);
    free(state);
    const char *keep = getenv("LOSSYFS_KEEP"), *seed = getenv("LOSSYFS_SEED");
    if (keep) keep_fraction = atof(keep);
    if (seed) random_state ^= strtoull(seed, NULL, 10) * 0xbf58476d1ce4e5b9ULL;
    if (random_state == 0) random_state = 1;
    // FUSE sees the mount point and the options, not STATE.
    argv[1] = argv[0];
    return fuse_main(argc - 1, argv + 1, &operations, NULL);
}
