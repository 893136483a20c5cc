// The PowerShell that asks Windows' Restart Manager which processes have the database's
// files open (RmStartSession / RmRegisterResources / RmGetList through Add-Type's C#
// P/Invoke), and prints the answer as JSON. Shipped in the bundle as text and fed to
// `powershell.exe -Command -` on stdin: nothing is downloaded or written to disk.
//
// Written for Windows PowerShell 5.1's Add-Type, whose C# compiler knows C# 5 only (no
// string interpolation, no `?.`). Checked here with Mono's `mcs -langversion:5`; it has
// never run on Windows in this repository's tests (see test/fixtures/platforms/README.md).
//
// `-Command -` reads stdin as if typed at a prompt, a statement at a time: a multi-line
// statement ends only at an empty line, and an empty line inside one cuts it short
// (PowerShell/PowerShell#3223). Hence one `& { … }` statement with no empty line in it,
// followed by two line breaks.

/** Environment variables the script reads: the files (one a line) and the proxy's port. */
export const RM_FILES_ENV = 'TRACEDB_RM_FILES';
export const RM_PORT_ENV = 'TRACEDB_RM_PORT';

/**
 * C# for Add-Type. JSON is written by hand, every character past ASCII escaped: Windows
 * PowerShell writes stdout in the console's code page, which would mangle a path in
 * another script, and its ConvertTo-Json flattens one-element arrays.
 */
export const RESTART_MANAGER_CSHARP = String.raw`using System;
using System.Collections.Generic;
using System.Management;
using System.Runtime.InteropServices;
using System.Text;
namespace TraceDbDoctor {
  public static class RmHolders {
    [StructLayout(LayoutKind.Sequential)]
    struct RM_UNIQUE_PROCESS {
      public int dwProcessId;
      public System.Runtime.InteropServices.ComTypes.FILETIME ProcessStartTime;
    }
    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    struct RM_PROCESS_INFO {
      public RM_UNIQUE_PROCESS Process;
      [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 256)] public string strAppName;
      [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 64)] public string strServiceShortName;
      public int ApplicationType;
      public uint AppStatus;
      public uint TSSessionId;
      [MarshalAs(UnmanagedType.Bool)] public bool bRestartable;
    }
    [DllImport("rstrtmgr.dll", CharSet = CharSet.Unicode)]
    static extern int RmStartSession(out uint pSessionHandle, int dwSessionFlags, StringBuilder strSessionKey);
    [DllImport("rstrtmgr.dll")]
    static extern int RmEndSession(uint pSessionHandle);
    [DllImport("rstrtmgr.dll", CharSet = CharSet.Unicode)]
    static extern int RmRegisterResources(uint pSessionHandle, uint nFiles, string[] rgsFilenames, uint nApplications, RM_UNIQUE_PROCESS[] rgApplications, uint nServices, string[] rgsServiceNames);
    [DllImport("rstrtmgr.dll", CharSet = CharSet.Unicode)]
    static extern int RmGetList(uint dwSessionHandle, out uint pnProcInfoNeeded, ref uint pnProcInfo, [In, Out] RM_PROCESS_INFO[] rgAffectedApps, ref uint lpdwRebootReasons);
    [DllImport("shell32.dll")]
    static extern IntPtr CommandLineToArgvW([MarshalAs(UnmanagedType.LPWStr)] string lpCmdLine, out int pNumArgs);
    [DllImport("kernel32.dll")]
    static extern IntPtr LocalFree(IntPtr hMem);
    [DllImport("iphlpapi.dll")]
    static extern uint GetExtendedTcpTable(IntPtr pTcpTable, ref int pdwSize, bool bOrder, int ulAf, int tableClass, uint reserved);
    const int ERROR_MORE_DATA = 234;
    const int ERROR_INSUFFICIENT_BUFFER = 122;
    class Found {
      public RM_PROCESS_INFO Info;
      public List<string> Files = new List<string>();
    }
    // One Restart Manager session per file: RmGetList names the processes, not which of the files each has open.
    static int ListUsers(string file, Dictionary<int, Found> found, List<int> order, out string step) {
      uint handle;
      StringBuilder key = new StringBuilder(64);
      step = "RmStartSession";
      int rc = RmStartSession(out handle, 0, key);
      if (rc != 0) return rc;
      try {
        step = "RmRegisterResources";
        rc = RmRegisterResources(handle, 1, new string[] { file }, 0, null, 0, null);
        if (rc != 0) return rc;
        step = "RmGetList";
        RM_PROCESS_INFO[] infos = null;
        uint needed = 0, count = 0, reasons = 0;
        for (int attempt = 0; ; attempt++) {
          count = infos == null ? 0 : (uint)infos.Length;
          rc = RmGetList(handle, out needed, ref count, infos, ref reasons);
          if (rc == 0) break;
          if (rc != ERROR_MORE_DATA || attempt >= 5) return rc;
          // More processes may open the file between two calls: leave room.
          infos = new RM_PROCESS_INFO[needed + 4];
        }
        for (int i = 0; i < count; i++) {
          int pid = infos[i].Process.dwProcessId;
          Found f;
          if (!found.TryGetValue(pid, out f)) {
            f = new Found();
            f.Info = infos[i];
            found[pid] = f;
            order.Add(pid);
          }
          if (!f.Files.Contains(file)) f.Files.Add(file);
        }
        return 0;
      } finally {
        RmEndSession(handle);
      }
    }
    static string[] SplitArgs(string cmd) {
      if (string.IsNullOrEmpty(cmd)) return null;
      int n;
      IntPtr p = CommandLineToArgvW(cmd, out n);
      if (p == IntPtr.Zero) return null;
      try {
        string[] a = new string[n];
        for (int i = 0; i < n; i++) a[i] = Marshal.PtrToStringUni(Marshal.ReadIntPtr(p, i * IntPtr.Size));
        return a;
      } finally {
        LocalFree(p);
      }
    }
    // Win32_Process: Restart Manager gives a friendly name only. Another user's process may refuse (null).
    static void CommandLineOf(int pid, out string commandLine, out string exe) {
      commandLine = null;
      exe = null;
      try {
        using (ManagementObjectSearcher s = new ManagementObjectSearcher("SELECT CommandLine, ExecutablePath FROM Win32_Process WHERE ProcessId = " + pid)) {
          foreach (ManagementBaseObject o in s.Get()) {
            commandLine = o["CommandLine"] as string;
            exe = o["ExecutablePath"] as string;
          }
        }
      } catch (Exception) {
      }
    }
    // PIDs listening on a TCP port (the proxy's), from the IPv4 or IPv6 table.
    static void Listeners(int af, int rowSize, int portOffset, int pidOffset, int port, List<int> into) {
      int size = 0;
      GetExtendedTcpTable(IntPtr.Zero, ref size, false, af, 3, 0);
      for (int attempt = 0; attempt < 3; attempt++) {
        IntPtr buf = Marshal.AllocHGlobal(Math.Max(size, 4));
        try {
          uint rc = GetExtendedTcpTable(buf, ref size, false, af, 3, 0);
          if (rc == ERROR_INSUFFICIENT_BUFFER) continue;
          if (rc != 0) return;
          int n = Marshal.ReadInt32(buf);
          for (int i = 0; i < n; i++) {
            IntPtr row = new IntPtr(buf.ToInt64() + 4 + (long)i * rowSize);
            int p = Marshal.ReadInt32(row, portOffset);
            int hostPort = ((p & 0xff) << 8) | ((p >> 8) & 0xff);
            int pid = Marshal.ReadInt32(row, pidOffset);
            if (hostPort == port && !into.Contains(pid)) into.Add(pid);
          }
          return;
        } finally {
          Marshal.FreeHGlobal(buf);
        }
      }
    }
    static void Str(StringBuilder sb, string s) {
      if (s == null) {
        sb.Append("null");
        return;
      }
      sb.Append('"');
      foreach (char c in s) {
        if (c == '"') sb.Append("\\\"");
        else if (c == '\\') sb.Append("\\\\");
        else if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4"));
        else sb.Append(c);
      }
      sb.Append('"');
    }
    static string Fail(string step, int code) {
      StringBuilder sb = new StringBuilder("{\"ok\":false,\"step\":");
      Str(sb, step);
      sb.Append(",\"error\":").Append(code).Append(",\"message\":");
      Str(sb, new System.ComponentModel.Win32Exception(code).Message);
      return sb.Append('}').ToString();
    }
    // files: the paths, one a line (no Windows path holds a line break). port: the proxy's, 0 for none.
    public static string Run(string files, int port) {
      string[] paths = (files ?? "").Split(new char[] { '\n' }, StringSplitOptions.RemoveEmptyEntries);
      Dictionary<int, Found> found = new Dictionary<int, Found>();
      List<int> order = new List<int>();
      foreach (string file in paths) {
        string step;
        int rc = ListUsers(file, found, order, out step);
        if (rc != 0) return Fail(step, rc);
      }
      List<int> listeners = new List<int>();
      if (port > 0 && order.Count > 0) {
        Listeners(2, 24, 8, 20, port, listeners);
        Listeners(23, 56, 20, 52, port, listeners);
      }
      StringBuilder sb = new StringBuilder("{\"ok\":true,\"holders\":[");
      for (int i = 0; i < order.Count; i++) {
        Found f = found[order[i]];
        RM_PROCESS_INFO info = f.Info;
        long ft = ((long)info.Process.ProcessStartTime.dwHighDateTime << 32) | (uint)info.Process.ProcessStartTime.dwLowDateTime;
        string commandLine, exe;
        CommandLineOf(order[i], out commandLine, out exe);
        if (i > 0) sb.Append(',');
        sb.Append("{\"pid\":").Append(order[i]);
        sb.Append(",\"startTime\":");
        Str(sb, ft > 0 ? DateTime.FromFileTimeUtc(ft).ToString("o") : null);
        sb.Append(",\"appName\":");
        Str(sb, info.strAppName);
        sb.Append(",\"serviceShortName\":");
        Str(sb, info.strServiceShortName);
        sb.Append(",\"appType\":").Append(info.ApplicationType);
        sb.Append(",\"sessionId\":").Append(info.TSSessionId);
        sb.Append(",\"restartable\":").Append(info.bRestartable ? "true" : "false");
        sb.Append(",\"executablePath\":");
        Str(sb, exe);
        sb.Append(",\"commandLine\":");
        Str(sb, commandLine);
        sb.Append(",\"argv\":");
        string[] argv = SplitArgs(commandLine);
        if (argv == null) sb.Append("null");
        else {
          sb.Append('[');
          for (int j = 0; j < argv.Length; j++) {
            if (j > 0) sb.Append(',');
            Str(sb, argv[j]);
          }
          sb.Append(']');
        }
        sb.Append(",\"files\":[");
        for (int j = 0; j < f.Files.Count; j++) {
          if (j > 0) sb.Append(',');
          Str(sb, f.Files[j]);
        }
        sb.Append("]}");
      }
      sb.Append("],\"listeners\":[");
      for (int i = 0; i < listeners.Count; i++) {
        if (i > 0) sb.Append(',');
        sb.Append(listeners[i]);
      }
      return sb.Append("]}").ToString();
    }
  }
}`;

export const RESTART_MANAGER_SCRIPT = [
  '& {',
  "$ErrorActionPreference = 'Stop'",
  'try {',
  'Add-Type -AssemblyName System.Management',
  "$src = @'",
  RESTART_MANAGER_CSHARP,
  "'@",
  'Add-Type -TypeDefinition $src -ReferencedAssemblies ([System.Management.ManagementObjectSearcher].Assembly.Location)',
  `[Console]::Out.Write([TraceDbDoctor.RmHolders]::Run([string]$env:${RM_FILES_ENV}, [int]$env:${RM_PORT_ENV}))`,
  '} catch {',
  // Constrained Language Mode (AppLocker, WDAC) refuses Add-Type: say so as JSON, with cmdlets only.
  `Write-Output ('{"ok":false,"step":"powershell","error":0,"message":' + (ConvertTo-Json -InputObject ([string]$_.Exception.Message) -Compress) + '}')`,
  '}',
  '}',
  '',
  '',
].join('\n');
