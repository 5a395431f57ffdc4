# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_umod_global_optspecs
    string join \n socket= h/help V/version
end

function __fish_umod_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_umod_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_umod_using_subcommand
    set -l cmd (__fish_umod_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c umod -n "__fish_umod_needs_command" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_needs_command" -s h -l help -d 'Print help'
complete -c umod -n "__fish_umod_needs_command" -s V -l version -d 'Print version'
complete -c umod -n "__fish_umod_needs_command" -f -a "demo" -d 'Load the example modules on an embedded host and show the tools at work'
complete -c umod -n "__fish_umod_needs_command" -f -a "serve" -d 'Run the machine-wide daemon in the foreground (logs to stderr, level from RUST_LOG)'
complete -c umod -n "__fish_umod_needs_command" -f -a "insmod" -d 'Load a module object (the 2.4 way unless --oneshot)'
complete -c umod -n "__fish_umod_needs_command" -f -a "rmmod" -d 'Remove modules'
complete -c umod -n "__fish_umod_needs_command" -f -a "lsmod" -d 'List the loaded modules (from /proc/modules)'
complete -c umod -n "__fish_umod_needs_command" -f -a "ksyms" -d 'List exported symbols (/proc/ksyms format)'
complete -c umod -n "__fish_umod_needs_command" -f -a "modinfo" -d 'Show what a module object says about itself'
complete -c umod -n "__fish_umod_needs_command" -f -a "depmod" -d 'Write DIR/modules.dep from the modules in DIR'
complete -c umod -n "__fish_umod_needs_command" -f -a "modprobe" -d 'Load a module and what it depends on, in order (or -r: remove them)'
complete -c umod -n "__fish_umod_needs_command" -f -a "dmesg" -d 'Show the kernel log'
complete -c umod -n "__fish_umod_needs_command" -f -a "irq" -d 'Software interrupts: raise a line, as a device would; its handlers run on the daemon\'s irq thread (counts: umod cat /proc/interrupts)'
complete -c umod -n "__fish_umod_needs_command" -f -a "cat" -d 'Print /proc/modules, /proc/ksyms, /proc/interrupts, or a /proc entry a module made'
complete -c umod -n "__fish_umod_needs_command" -f -a "cflags" -d 'Print the compiler flags that build a module against the kit (its headers travel inside umod and are unpacked to a cache directory)'
complete -c umod -n "__fish_umod_needs_command" -f -a "completions" -d 'Print a shell completion script for umod'
complete -c umod -n "__fish_umod_needs_command" -f -a "manpages" -d 'Write the man pages: umod.1 and one per command (umod-insmod.1...)'
complete -c umod -n "__fish_umod_needs_command" -f -a "new" -d 'Start a module project: a Rust crate with the umod-module kit (the default), or a C file and a Makefile'
complete -c umod -n "__fish_umod_needs_command" -f -a "exec" -d 'Run an unmodified program whose module syscalls (174-178) umod serves'
complete -c umod -n "__fish_umod_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c umod -n "__fish_umod_using_subcommand demo" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand serve" -l preload -d 'Load the modules this file lists before serving: one per line, PATH [name=value ...], # for comments, relative paths from the file\'s directory. Failures are logged and skipped' -r -F
complete -c umod -n "__fish_umod_using_subcommand serve" -l window -d 'Module window size (K, M or G suffix); default 256M' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l personality -d 'Kernel generation to impersonate: 2.4 (default) or 2.6' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-request -d 'Largest request from a caller that was root when it connected (default 64M)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-unprivileged-request -d 'Largest request from any other caller (default 1M)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-clients -d 'Connections open at once from callers that were not root when they connected, all users together (default 128)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-clients-per-user -d 'Connections open at once from one such user (default 16)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-root-clients -d 'Connections open at once from root, kept apart (default 32)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l unprivileged-memory -d 'Memory the requests of callers without privilege may take at once, all users together (default 48M)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l memory-per-user -d 'Memory one such user\'s requests may take at once (default 16M)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l idle-timeout -d 'Close a connection idle this long, in seconds (default 60)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l request-timeout -d 'A request must arrive whole within this many seconds (default 10)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l watchdog -d 'Stop module code (init, cleanup, a timer...) that runs longer than this many seconds, and report a soft lockup (default 5)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l stop-timeout -d 'On SIGTERM, exit within this many seconds whatever module code does (default 10)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l max-modules -d 'Most modules (default 1024)' -r
complete -c umod -n "__fish_umod_using_subcommand serve" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand serve" -l no-perf-map -d 'Do not keep /tmp/perf-PID.map, the list of module functions that perf reads to name samples in module code'
complete -c umod -n "__fish_umod_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand insmod" -s o -l name -d 'Module name (default: the file name up to the first \'.\')' -r
complete -c umod -n "__fish_umod_using_subcommand insmod" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand insmod" -s k -l autoclean -d 'Set autoclean: rmmod -a may remove it once unused'
complete -c umod -n "__fish_umod_using_subcommand insmod" -s f -l force -d 'Load even if the module was built for another kernel release'
complete -c umod -n "__fish_umod_using_subcommand insmod" -s m -l map -d 'Print the load map: sections and symbols with their addresses'
complete -c umod -n "__fish_umod_using_subcommand insmod" -s x -l noexport -d 'Export nothing unless the module has a symbol table'
complete -c umod -n "__fish_umod_using_subcommand insmod" -l oneshot -d 'Send the object to the daemon, which loads it in one step'
complete -c umod -n "__fish_umod_using_subcommand insmod" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand rmmod" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand rmmod" -s a -l all -d 'Autoclean sweep: remove unused autoclean modules'
complete -c umod -n "__fish_umod_using_subcommand rmmod" -s r -l stacks -l recursive -d 'Also remove the modules each one used, once they are unused'
complete -c umod -n "__fish_umod_using_subcommand rmmod" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand lsmod" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand lsmod" -l json -d 'Print JSON: [{name, size, used, status, users}]'
complete -c umod -n "__fish_umod_using_subcommand lsmod" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand ksyms" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand ksyms" -s a -l all -d 'Include the kernel\'s own symbols'
complete -c umod -n "__fish_umod_using_subcommand ksyms" -l json -d 'Print JSON: [{value, name, module}]'
complete -c umod -n "__fish_umod_using_subcommand ksyms" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand modinfo" -s F -l field -d 'Print only this field\'s values (license, author, description, parm, kernel_version, depends...)' -r
complete -c umod -n "__fish_umod_using_subcommand modinfo" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand modinfo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand depmod" -s b -l basedir -d 'The module directory (default: the current one)' -r -F
complete -c umod -n "__fish_umod_using_subcommand depmod" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand depmod" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand modprobe" -s d -l dirname -d 'The module directory (default: the current one)' -r -F
complete -c umod -n "__fish_umod_using_subcommand modprobe" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand modprobe" -s r -l remove -d 'Remove the module, then the ones it used'
complete -c umod -n "__fish_umod_using_subcommand modprobe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand dmesg" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand dmesg" -s c -l clear -d 'Clear the log after printing it'
complete -c umod -n "__fish_umod_using_subcommand dmesg" -l json -d 'Print JSON: [{seq, level, time, text}]'
complete -c umod -n "__fish_umod_using_subcommand dmesg" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand irq; and not __fish_seen_subcommand_from raise help" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand irq; and not __fish_seen_subcommand_from raise help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand irq; and not __fish_seen_subcommand_from raise help" -f -a "raise" -d 'Raise line N (0-223) and wait until its handlers have returned'
complete -c umod -n "__fish_umod_using_subcommand irq; and not __fish_seen_subcommand_from raise help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c umod -n "__fish_umod_using_subcommand irq; and __fish_seen_subcommand_from raise" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand irq; and __fish_seen_subcommand_from raise" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand irq; and __fish_seen_subcommand_from help" -f -a "raise" -d 'Raise line N (0-223) and wait until its handlers have returned'
complete -c umod -n "__fish_umod_using_subcommand irq; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c umod -n "__fish_umod_using_subcommand cat" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand cat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand cflags" -l kit-dir -d 'Unpack the kit\'s headers here instead of the cache directory' -r -F
complete -c umod -n "__fish_umod_using_subcommand cflags" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand cflags" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand completions" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand manpages" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand manpages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand new" -l dir -d 'Where to make it' -r -F
complete -c umod -n "__fish_umod_using_subcommand new" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand new" -l rust -d 'A Rust project (the default)'
complete -c umod -n "__fish_umod_using_subcommand new" -l c -d 'A C project'
complete -c umod -n "__fish_umod_using_subcommand new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand exec" -l uname-release -d 'The release uname reports to the program (2.4-era tools decide by it)' -r
complete -c umod -n "__fish_umod_using_subcommand exec" -l socket -d 'The daemon\'s socket (default: $UMOD_SOCKET, else /run/umod/umod.sock)' -r -F
complete -c umod -n "__fish_umod_using_subcommand exec" -l embedded -d 'Serve the calls from a private host instead of the daemon'
complete -c umod -n "__fish_umod_using_subcommand exec" -l no-proc -d 'Do not serve /proc/modules and /proc/ksyms from the host'
complete -c umod -n "__fish_umod_using_subcommand exec" -l null-supervisor -d 'Answer every module call with 0 without doing anything (to measure the cost of interception itself)'
complete -c umod -n "__fish_umod_using_subcommand exec" -l floor-supervisor -d 'Answer every module call with 0 after reading what serving it must read (the caller\'s memory and capabilities) and checking the call is still pending (to measure that floor)'
complete -c umod -n "__fish_umod_using_subcommand exec" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "demo" -d 'Load the example modules on an embedded host and show the tools at work'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "serve" -d 'Run the machine-wide daemon in the foreground (logs to stderr, level from RUST_LOG)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "insmod" -d 'Load a module object (the 2.4 way unless --oneshot)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "rmmod" -d 'Remove modules'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "lsmod" -d 'List the loaded modules (from /proc/modules)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "ksyms" -d 'List exported symbols (/proc/ksyms format)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "modinfo" -d 'Show what a module object says about itself'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "depmod" -d 'Write DIR/modules.dep from the modules in DIR'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "modprobe" -d 'Load a module and what it depends on, in order (or -r: remove them)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "dmesg" -d 'Show the kernel log'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "irq" -d 'Software interrupts: raise a line, as a device would; its handlers run on the daemon\'s irq thread (counts: umod cat /proc/interrupts)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "cat" -d 'Print /proc/modules, /proc/ksyms, /proc/interrupts, or a /proc entry a module made'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "cflags" -d 'Print the compiler flags that build a module against the kit (its headers travel inside umod and are unpacked to a cache directory)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "completions" -d 'Print a shell completion script for umod'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "manpages" -d 'Write the man pages: umod.1 and one per command (umod-insmod.1...)'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "new" -d 'Start a module project: a Rust crate with the umod-module kit (the default), or a C file and a Makefile'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "exec" -d 'Run an unmodified program whose module syscalls (174-178) umod serves'
complete -c umod -n "__fish_umod_using_subcommand help; and not __fish_seen_subcommand_from demo serve insmod rmmod lsmod ksyms modinfo depmod modprobe dmesg irq cat cflags completions manpages new exec help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c umod -n "__fish_umod_using_subcommand help; and __fish_seen_subcommand_from irq" -f -a "raise" -d 'Raise line N (0-223) and wait until its handlers have returned'
