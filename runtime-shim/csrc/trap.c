/*
 * Trap handling for Rivet's runtime shim.
 *
 * Compiled wasm code reports traps by faulting: `ud2`/`udf` for explicit traps
 * (SIGILL), loads and stores in guard regions (SIGSEGV/SIGBUS), and possibly
 * integer division (SIGFPE). The Rust side cannot catch signals and must not be
 * unwound through, so entry into wasm goes through `rivet_enter`, which sets a
 * jump point with sigsetjmp; the signal handler jumps back to the innermost jump
 * point when (and only when) the faulting PC lies in registered wasm code. Any
 * other fault is passed to whatever handler was installed before ours.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

/* What the Rust side learns about a trap: the signal and where, or signal 0
 * and the trap kind for a trap raised by `rivet_trap`. */
typedef struct rivet_trap_info {
    int32_t signum;
    int32_t kind;
    uintptr_t pc;
    uintptr_t addr;
} rivet_trap_info;

typedef void (*rivet_array_trampoline)(const void *code, void *vmctx, void *values);

/* One active `rivet_enter` on this thread; they nest through `prev`. */
struct entry_frame {
    sigjmp_buf jump;
    struct entry_frame *prev;
    rivet_trap_info *info;
};

static __thread struct entry_frame *current_entry;

/* The Rust side's per-thread state (`ThreadState` in thread.rs, which checks
 * that it fits): kept here because `no_std` Rust has no thread-locals. */
static __thread _Alignas(16) unsigned char thread_state[64];

void *rivet_thread_state(void) { return thread_state; }
/* Set by the host-function dispatcher right before it asks its trampoline to
 * trap: the trap instruction of a trampoline is not a registered trap site. */
static __thread int host_trap_pending;

/* Code ranges: readable without locks from the signal handler. A slot is
 * free when its start is 0; writers hold `ranges_lock`. */
#define RANGE_SLOTS 65536
static struct {
    _Atomic uintptr_t start;
    _Atomic uintptr_t end;
} ranges[RANGE_SLOTS];
static _Atomic int ranges_used;
static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;

int64_t rivet_register_range(uintptr_t start, uintptr_t end) {
    if (start == 0 || end <= start)
        return -1;
    pthread_mutex_lock(&ranges_lock);
    int64_t found = -1;
    for (int i = 0; i < RANGE_SLOTS; i++) {
        if (atomic_load(&ranges[i].start) == 0) {
            atomic_store(&ranges[i].end, end);
            atomic_store(&ranges[i].start, start);
            if (i + 1 > atomic_load(&ranges_used))
                atomic_store(&ranges_used, i + 1);
            found = i;
            break;
        }
    }
    pthread_mutex_unlock(&ranges_lock);
    return found;
}

void rivet_unregister_range(int64_t slot) {
    if (slot < 0 || slot >= RANGE_SLOTS)
        return;
    pthread_mutex_lock(&ranges_lock);
    atomic_store(&ranges[slot].start, 0);
    pthread_mutex_unlock(&ranges_lock);
}

static int in_wasm_code(uintptr_t pc) {
    int used = atomic_load(&ranges_used);
    for (int i = 0; i < used; i++) {
        uintptr_t start = atomic_load(&ranges[i].start);
        if (start != 0 && pc >= start && pc < atomic_load(&ranges[i].end))
            return 1;
    }
    return 0;
}

void rivet_set_host_trap_pending(int pending) { host_trap_pending = pending; }

static uintptr_t fault_pc(void *context) {
    ucontext_t *uc = (ucontext_t *)context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
#error "unsupported architecture"
#endif
}

static const int trap_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
#define TRAP_SIGNAL_COUNT (sizeof(trap_signals) / sizeof(trap_signals[0]))
static struct sigaction previous[TRAP_SIGNAL_COUNT];

/* Hands a fault that is not a wasm trap to the handler installed before ours. */
static void chain(int signum, siginfo_t *info, void *context) {
    for (unsigned i = 0; i < TRAP_SIGNAL_COUNT; i++) {
        if (trap_signals[i] != signum)
            continue;
        struct sigaction *prev = &previous[i];
        if (prev->sa_flags & SA_SIGINFO) {
            prev->sa_sigaction(signum, info, context);
        } else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
            /* Restore the default action; returning re-executes the faulting
             * instruction, which then gets it. */
            signal(signum, SIG_DFL);
        } else {
            prev->sa_handler(signum);
        }
        return;
    }
}

static void handle_trap(int signum, siginfo_t *info, void *context) {
    struct entry_frame *entry = current_entry;
    uintptr_t pc = fault_pc(context);
    int host = signum == SIGILL && host_trap_pending;
    if (entry == NULL || !(host || in_wasm_code(pc))) {
        chain(signum, info, context);
        return;
    }
    host_trap_pending = 0;
    entry->info->signum = signum;
    entry->info->pc = pc;
    entry->info->addr = (uintptr_t)info->si_addr;
    siglongjmp(entry->jump, 1);
}

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_failed;

static void install_handlers(void) {
    for (unsigned i = 0; i < TRAP_SIGNAL_COUNT; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = handle_trap;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        if (sigaction(trap_signals[i], &action, &previous[i]) != 0)
            install_failed = 1;
    }
}

/* Per-thread alternate signal stack, so a fault on an exhausted stack can
 * still run the handler. Freed by the thread-exit destructor. */
#define ALT_STACK_SIZE (64 * 1024)
static pthread_key_t alt_stack_key;
static pthread_once_t alt_key_once = PTHREAD_ONCE_INIT;

static void free_alt_stack(void *mem) {
    stack_t disable;
    memset(&disable, 0, sizeof disable);
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, NULL);
    munmap(mem, ALT_STACK_SIZE);
}

static void make_alt_key(void) { pthread_key_create(&alt_stack_key, free_alt_stack); }

/* Called once per thread (see `thread_ready`). */
static int ensure_alt_stack(void) {
    stack_t old;
    if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) &&
        old.ss_size >= ALT_STACK_SIZE)
        return 0; /* someone else (e.g. Rust's std) set a large enough one */
    void *mem = mmap(NULL, ALT_STACK_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return -1;
    stack_t st;
    memset(&st, 0, sizeof st);
    st.ss_sp = mem;
    st.ss_size = ALT_STACK_SIZE;
    if (sigaltstack(&st, NULL) != 0) {
        munmap(mem, ALT_STACK_SIZE);
        return -1;
    }
    pthread_once(&alt_key_once, make_alt_key);
    pthread_setspecific(alt_stack_key, mem);
    return 0;
}

/* Returns 0 when the trampoline returned, 1 after a trap (details in `info`),
 * -1 when trap handling could not be set up (nothing was called). */
/* Set once this thread has the handlers and an alternate stack: every later
 * entry checks this one flag. */
static __thread int thread_ready;

static int prepare_thread(void) {
    pthread_once(&install_once, install_handlers);
    if (install_failed || ensure_alt_stack() != 0)
        return -1;
    thread_ready = 1;
    return 0;
}

int rivet_enter(rivet_array_trampoline tramp, const void *code, void *vmctx, void *values,
                rivet_trap_info *info) {
    if (!thread_ready && prepare_thread() != 0)
        return -1;
    struct entry_frame frame;
    frame.prev = current_entry;
    frame.info = info;
    /* The signal mask is not saved: that is a system call on every entry.
     * Instead the trap path unblocks the signal the handler ran under (the
     * kernel blocks it for the handler's duration, and jumping out does not
     * restore it). */
    if (sigsetjmp(frame.jump, 0) != 0) {
        current_entry = frame.prev;
        if (info->signum != 0) {
            sigset_t handled;
            sigemptyset(&handled);
            sigaddset(&handled, info->signum);
            pthread_sigmask(SIG_UNBLOCK, &handled, NULL);
        }
        return 1;
    }
    current_entry = &frame;
    tramp(code, vmctx, values);
    current_entry = frame.prev;
    return 0;
}

/* Raised by code from Rivet's C backend, which cannot place trap sites:
 * jumps back to the innermost entry with the kind (a `TrapKind`). Wasm code
 * only runs inside `rivet_enter`, so there is always an entry. */
__attribute__((noreturn)) void rivet_trap(uint32_t kind) {
    struct entry_frame *entry = current_entry;
    if (entry == NULL)
        abort();
    entry->info->signum = 0;
    entry->info->kind = (int32_t)kind;
    entry->info->pc = 0;
    entry->info->addr = 0;
    siglongjmp(entry->jump, 1);
}
