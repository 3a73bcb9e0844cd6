/* A QEMU TCG plugin that counts the guest instructions executed between two markers.
 *
 * fitedge's arm64 runner loads it into qemu-aarch64 (-plugin FILE -d plugin -D LOG) to report how many
 * instructions one inference costs on each emulated CPU class: a cost figure that, unlike emulated time,
 * does not depend on how fast the host emulates. Debian's qemu-user is built with plugin support but ships
 * no plugins, so fitedge compiles this one with the host's C compiler.
 *
 * The guest marks a point with an otherwise unused system call, FITEDGE_MARK (QEMU answers ENOSYS and goes
 * on). At each mark the plugin logs "fitedge-mark TAG COUNT" (instructions since the previous mark) and
 * starts counting again. Counting is an inline add per translated block, the cheapest instrumentation; its
 * single counter is shared by all guest threads, so runs that want exact counts use one thread.
 *
 * Only the few declarations of QEMU's plugin API (qemu-plugin.h, API version 1 as in QEMU 7.2) that this
 * file uses are repeated here, since Debian ships no header for it.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#define FITEDGE_MARK 0xfe17

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*syscall_cb)(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1,
                           uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7,
                           uint64_t a8);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_syscall_cb(qemu_plugin_id_t id, syscall_cb cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu_index, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8)
{
    char line[64];
    if (num != FITEDGE_MARK)
        return;
    snprintf(line, sizeof line, "fitedge-mark %" PRIu64 " %" PRIu64 "\n", a1, executed);
    qemu_plugin_outs(line);
    executed = 0;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    return 0;
}
