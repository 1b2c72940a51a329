import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { makeQueryClient } from "./api/queryClient";
import { router } from "./app/routes";
import { startErrorReporting } from "./lib/sentry";
import "./styles.css";

const queryClient = makeQueryClient();
startErrorReporting(queryClient);
const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
