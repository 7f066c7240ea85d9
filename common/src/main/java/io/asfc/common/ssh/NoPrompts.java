package io.asfc.common.ssh;

import com.jcraft.jsch.UserInfo;

/** Never prompts: no password, no passphrase, no "continue connecting?". */
enum NoPrompts implements UserInfo {
    INSTANCE;

    @Override
    public String getPassphrase() {
        return null;
    }

    @Override
    public String getPassword() {
        return null;
    }

    @Override
    public boolean promptPassword(String message) {
        return false;
    }

    @Override
    public boolean promptPassphrase(String message) {
        return false;
    }

    @Override
    public boolean promptYesNo(String message) {
        return false;
    }

    @Override
    public void showMessage(String message) {}
}
