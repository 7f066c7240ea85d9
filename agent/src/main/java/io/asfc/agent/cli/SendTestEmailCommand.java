package io.asfc.agent.cli;

import io.asfc.agent.alerts.EmailAlerter;
import io.asfc.common.config.AlertSettings;
import io.asfc.common.config.AsfcSettings;
import io.asfc.common.mail.MailNotSentException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
        name = "send-test-email",
        aliases = "send_test_email",
        description = {
            "Send one test e-mail with the alerts.email settings.",
            "It waits for the SMTP server's answer (each step bounded by alerts.email.timeout).",
            "Exit code 0 when the server accepted it, 1 otherwise."
        })
final class SendTestEmailCommand implements Callable<Integer> {
    @Mixin
    private HelpOption help;

    @Mixin
    private ConfOption conf;

    @ParentCommand
    private AsfcCli cli;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        AsfcSettings s = cli.settings();
        AlertSettings.Email mail = s.alerts().email();
        if (!mail.enabled()) {
            throw new CliFailure("alerts.email.enabled is false; set it to true to send alerts");
        }
        try {
            EmailAlerter.sendTest(s.cluster(), s.nodeId(), s.alerts());
        } catch (MailNotSentException e) {
            throw new CliFailure("test e-mail NOT accepted: " + e.getMessage());
        }
        spec.commandLine()
                .getOut()
                .println("test e-mail accepted by " + mail.smtp().host() + ":"
                        + mail.smtp().port() + " for " + String.join(", ", mail.to()));
        return ExitCode.OK.code();
    }
}
