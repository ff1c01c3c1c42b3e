import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { Page } from "./components/page.tsx";
import { RequireSession, StaffOnly } from "./layout.tsx";
import { DashboardPage } from "./pages/dashboard.tsx";
import { EnrolPage } from "./pages/enrol.tsx";
import { InvitePage } from "./pages/invite.tsx";
import { SetupPage } from "./pages/setup.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { SessionProvider, useSession } from "./session.tsx";

function Home() {
  const { state } = useSession();
  if (state.status === "signed-in" && state.user.role === "developer") return <Navigate to="/me" replace />;
  return <DashboardPage />;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is nothing here. Go to the <a href="/">start page</a>.
      </p>
    </Page>
  );
}

const staff = (el: React.ReactNode) => <StaffOnly>{el}</StaffOnly>;

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/setup" element={<SetupPage />} />
          <Route path="/sign-in" element={<SignInPage />} />
          <Route path="/invite" element={<InvitePage />} />
          <Route path="/enrol" element={<EnrolPage />} />
          <Route element={<RequireSession />}>
            <Route index element={<Home />} />
            <Route path="*" element={staff(<NotFound />)} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
