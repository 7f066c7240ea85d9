package io.asfc.common.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads a {@code <key>-file}: the whole file is the secret, less one trailing line break. */
final class SecretFile {
    /** A password file is small; anything bigger is the wrong file. */
    static final int MAX_BYTES = 64 * 1024;

    private SecretFile() {}

    /** @throws UnreadableException with a message that names the file, never its content */
    static String read(Path file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new UnreadableException(file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new UnreadableException(file + " is not readable by this user");
        } catch (IOException e) {
            // the message of an I/O error names the file or the errno, never the content
            throw new UnreadableException("cannot read " + file + ": " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new UnreadableException(
                    file + " is larger than " + MAX_BYTES / 1024 + " KiB; it must hold only the secret");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new UnreadableException(file + " is not UTF-8 text");
        }
        String secret = withoutOneLineBreak(text);
        if (secret.isEmpty()) {
            throw new UnreadableException(file + " is empty");
        }
        return secret;
    }

    static String withoutOneLineBreak(String text) {
        if (text.endsWith("\r\n")) {
            return text.substring(0, text.length() - 2);
        }
        if (text.endsWith("\n")) {
            return text.substring(0, text.length() - 1);
        }
        return text;
    }

    /** The file cannot serve as a secret; the message says why and names the file. */
    static final class UnreadableException extends RuntimeException {
        UnreadableException(String message) {
            super(message);
        }
    }
}
