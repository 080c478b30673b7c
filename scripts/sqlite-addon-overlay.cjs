// Preloaded (--require, via NODE_OPTIONS) when the tests run under another Node than the one npm built
// node_modules for: loads better-sqlite3's addon built for this Node's ABI (ROOMCAST_SQLITE_ADDON) instead.
'use strict';
const addon = process.env.ROOMCAST_SQLITE_ADDON;
if (addon) {
  const dlopen = process.dlopen;
  const npmBuild = /[\\/]better-sqlite3[\\/]build[\\/]Release[\\/]better_sqlite3\.node$/;
  process.dlopen = function dlopenOverlay(module, filename, ...rest) {
    return dlopen.call(this, module, npmBuild.test(filename) ? addon : filename, ...rest);
  };
}
