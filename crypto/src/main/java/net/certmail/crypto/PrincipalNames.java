package net.certmail.crypto;

import java.security.cert.X509Certificate;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/** A principal's id is the common name (CN) of its certificate's subject. */
public final class PrincipalNames {
  private static final Pattern VALID =
      Pattern.compile("([a-z0-9][a-z0-9._+-]*@)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");

  private PrincipalNames() {}

  public static X500Name subjectFor(String principalId, String organisation) {
    return new X500NameBuilder(BCStyle.INSTANCE)
        .addRDN(BCStyle.CN, principalId)
        .addRDN(BCStyle.O, organisation)
        .build();
  }

  /**
   * Principal ids name files in key directories and appear in labels, so they are restricted to
   * what a mail address or domain needs: lowercase letters, digits, '.', '-', '_', '+' and one '@'.
   */
  /** Whether a name is a principal id (and so safe as a file name: no '/', no leading '.', no control character). */
  public static boolean isValid(String principalId) {
    return principalId != null && VALID.matcher(principalId).matches();
  }

  public static String requireValid(String principalId) {
    if (principalId == null || !VALID.matcher(principalId).matches()) {
      throw new IllegalArgumentException("not a valid principal id: '" + principalId
          + "' (expected a domain like alpha.example or a mailbox like alice@alpha.example, in lowercase)");
    }
    return principalId;
  }

  public static String principalOf(X509Certificate certificate) {
    return commonName(certificate.getSubjectX500Principal());
  }

  static String commonName(X500Principal principal) {
    X500Name name = X500Name.getInstance(principal.getEncoded());
    var rdns = name.getRDNs(BCStyle.CN);
    if (rdns.length == 0) {
      return "";
    }
    return IETFUtils.valueToString(rdns[0].getFirst().getValue());
  }
}
