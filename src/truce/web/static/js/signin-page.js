// /signin#code=CODE: trade the one-time code printed by `truce serve --demo` for a token,
// keep the token in this tab (like the sign-in dialog does) and go to the map.
import { api, setToken } from "./api.js";

const message = document.getElementById("signin-message");
const code = new URLSearchParams(window.location.hash.slice(1)).get("code");
// The code is spent either way: take it out of the address bar and the history.
window.history.replaceState(null, "", "/signin");

async function signIn() {
  if (!code) {
    message.textContent = "This link has no sign-in code. Open the link truce printed, or sign in with a token on the map page.";
    return;
  }
  try {
    const { token } = await api("/api/signin", { method: "POST", body: { code } });
    setToken(token);
    window.location.replace("/");
  } catch (err) {
    message.textContent = err.status === 401
      ? "This sign-in link was already used or has expired. Start the demo again (make demo) for a new link, or sign in with a token."
      : `Could not sign in: ${err.message}`;
    message.append(" ");
    const back = document.createElement("a");
    back.href = "/";
    back.textContent = "Go to the map";
    message.append(back);
  }
}

signIn();
